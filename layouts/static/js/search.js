// Broadsheet search: reads the JSON index built with the site and ranks matches in the browser.
// Title matches rank above body matches, then newer stories (documents are numbered oldest first);
// every query word must match (a word also matches longer words that start with it). No dependencies,
// no third-party requests.
(function () {
  "use strict";
  var form = document.querySelector(".search-form");
  if (!form || !window.fetch) return;
  // With a query in the address, the archive links give way to the results before they arrive.
  if (/[?&]q=[^&]/.test(location.search)) document.documentElement.classList.add("searching");
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var base = form.getAttribute("data-base");
  var indexUrl = form.getAttribute("data-index");
  var folder = indexUrl.slice(0, indexUrl.lastIndexOf("/") + 1);
  var cache = {};
  var manifest = null;
  var STOP = /^(?:a|an|and|the|of|in|on|at|to|for|is|are|was|were|by|with|from|it|its|as|be|or|that|this)$/;

  function load(name) {
    if (!cache[name]) {
      cache[name] = fetch(folder + name).then(function (r) {
        if (!r.ok) throw new Error(name + ": " + r.status);
        return r.json();
      });
    }
    return cache[name];
  }

  function terms(query) {
    var words = query.normalize("NFKC").toLowerCase().replace(/(\w)['’.,](?=\w)/g, "$1").match(/[\p{L}\p{N}_]+/gu) || [];
    return words.filter(function (w, i) { return !STOP.test(w) && words.indexOf(w) === i; });
  }

  function undelta(gaps) {
    var out = [], n = 0;
    for (var i = 0; i < gaps.length; i++) { n += gaps[i]; out.push(n); }
    return out;
  }

  function termFile(word) {
    if (manifest.letters.length === 0) return manifest.terms;
    var key = word.codePointAt(0).toString(16);
    return manifest.letters.indexOf(key) < 0 ? null : manifest.terms.replace("{letter}", key);
  }

  // score[doc] for one query word: 10 for a title match, 1 for a body match; prefix matches count half.
  function scoreWord(word) {
    var file = termFile(word);
    if (!file) return Promise.resolve({});
    return load(file).then(function (postings) {
      var scores = {};
      Object.keys(postings).forEach(function (term) {
        if (term.lastIndexOf(word, 0) !== 0) return;
        var weight = term === word ? 1 : 0.5;
        undelta(postings[term][0]).forEach(function (d) { scores[d] = Math.max(scores[d] || 0, 10 * weight); });
        undelta(postings[term][1]).forEach(function (d) { scores[d] = Math.max(scores[d] || 0, weight); });
      });
      return scores;
    });
  }

  function docs(numbers) {
    var per = manifest.docs_per_file;
    var files = numbers.map(function (n) { return manifest.docs[Math.floor(n / per)]; })
      .filter(function (f, i, all) { return all.indexOf(f) === i; });
    return Promise.all(files.map(load)).then(function () {
      return Promise.all(numbers.map(function (n) {
        return load(manifest.docs[Math.floor(n / per)]).then(function (chunk) { return chunk[n % per]; });
      }));
    });
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // The words are marked in the text, and each piece escaped after: marking the escaped HTML would find
  // "amp" in "&amp;" and "39" in "&#39;" and break them.
  function highlight(text, words) {
    if (!words.length) return escapeHtml(text);
    var pattern = new RegExp("(^|[^\\p{L}\\p{N}_])(" + words.map(function (w) {
      return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|") + ")", "giu");
    var html = "", done = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      var start = match.index + match[1].length;
      html += escapeHtml(text.slice(done, start)) + "<mark>" + escapeHtml(match[2]) + "</mark>";
      done = start + match[2].length;
    }
    return html + escapeHtml(text.slice(done));
  }

  function show(query, words, found) {
    list.innerHTML = "";
    found.forEach(function (doc) {
      var item = document.createElement("li");
      item.className = "search-result";
      item.innerHTML = '<p class="kicker">' + escapeHtml(doc[3]) + "</p>" +
        '<h2 class="card-title"><a href="' + escapeHtml(base + doc[0].replace(/^\//, "")) + '">' +
        highlight(doc[1], words) + "</a></h2>" +
        (doc[2] ? '<p class="card-standfirst">' + highlight(doc[2], words) + "</p>" : "") +
        '<p class="card-meta"><time datetime="' + doc[4] + '">' + escapeHtml(doc[5] || doc[4]) + "</time></p>";
      list.appendChild(item);
    });
    status.textContent = found.length ? found.length + (found.length === 1 ? " story" : " stories") +
      " for “" + query + "”" : "No stories found for “" + query + "”. Try fewer or shorter words.";
  }

  function search(query) {
    var words = terms(query);
    if (!words.length) {
      list.innerHTML = "";
      status.textContent = "";
      document.documentElement.classList.remove("searching");
      return Promise.resolve();
    }
    document.documentElement.classList.add("searching");
    status.textContent = "Searching…";
    return load(indexUrl.slice(folder.length)).then(function (m) {
      manifest = m;
      return Promise.all(words.map(scoreWord));
    }).then(function (perWord) {
      var total = {};
      Object.keys(perWord[0]).forEach(function (d) {
        var sum = 0;
        for (var i = 0; i < perWord.length; i++) {
          if (!(d in perWord[i])) return;
          sum += perWord[i][d];
        }
        total[d] = sum;
      });
      var ranked = Object.keys(total).map(Number).sort(function (a, b) { return total[b] - total[a] || b - a; });
      return docs(ranked.slice(0, 50));
    }).then(function (found) {
      if (input.value.trim() === query.trim()) show(query, words, found);
    }).catch(function () {
      status.textContent = "Search is unavailable right now; browse the archive below.";
    });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { search(input.value); }, 150);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    search(input.value);
  });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; search(initial); }
}());
