/* beiandesk console: small enhancements over plain forms (they all work without this file).
   - file inputs in [data-dropzone] accept drag and drop and show a preview before upload;
   - 「更多操作」 folds a website's actions into a disclosure button;
   - upload forms say they are working (a photo check takes a few seconds);
   - [data-back] links go back in history when there is one;
   - a message shown beside the control that caused it ([data-flash-focus]) is scrolled into
     view and focused, so it is seen (and read out) right after the page loads. */
(function () {
  "use strict";

  function kb(size) { return (size / 1024).toFixed(1) + " KB"; }

  function showPreview(input) {
    var zone = input.closest("[data-dropzone]");
    var box = zone && zone.querySelector("[data-preview]");
    if (!box) { return; }
    box.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("div");
      item.className = "preview-item";
      if (/^image\//.test(file.type)) {
        var img = document.createElement("img");
        img.alt = "待上传：" + file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        item.appendChild(img);
      }
      var name = document.createElement("span");
      name.textContent = "待上传：" + file.name + "（" + kb(file.size) + "）";
      item.appendChild(name);
      box.appendChild(item);
    });
    zone.classList.toggle("has-file", (input.files || []).length > 0);
  }

  function wireDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    input.addEventListener("change", function () { showPreview(input); });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
      var files = new DataTransfer();
      files.items.add(e.dataTransfer.files[0]);
      input.files = files.files;
      showPreview(input);
    });
  }

  function wireBack(link) {
    link.addEventListener("click", function (e) {
      if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
    });
  }

  function wireUpload(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) { return; }
      form.setAttribute("aria-busy", "true");
      window.setTimeout(function () { button.disabled = true; button.textContent = "正在上传和检查…"; }, 0);
    });
  }

  /* 「更多操作」: without this script the actions are simply shown; with it they fold into a
     disclosure button (aria-expanded), closed by a second click or Escape. */
  function wireMenu(menu) {
    var button = menu.querySelector(".menu-toggle");
    var body = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!body) { return; }
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      body.hidden = !open;
    }
    button.hidden = false;
    set(false);
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  /* After load, not at DOMContentLoaded: the browser's own jump to the URL's #section comes
     later and would take the focus away again. */
  function showFlash() {
    var box = document.querySelector("[data-flash-focus]");
    if (!box) { return; }
    window.setTimeout(function () {
      box.scrollIntoView({block: "center"});
      box.focus({preventScroll: true});
    }, 0);
  }

  /* The admin sub-nav is one row that scrolls sideways on a phone: bring the current page's
     link into that row's view (only the row scrolls, never the page). */
  function showCurrentTab() {
    var row = document.querySelector(".subnav-inner");
    var current = row && row.querySelector('[aria-current="page"]');
    if (!current) { return; }
    var left = current.offsetLeft - row.offsetLeft;
    if (left < row.scrollLeft || left + current.offsetWidth > row.scrollLeft + row.clientWidth) {
      row.scrollLeft = Math.max(0, left - (row.clientWidth - current.offsetWidth) / 2);
    }
  }

  function init() {
    showCurrentTab();
    if (document.readyState === "complete") { showFlash(); }
    else { window.addEventListener("load", showFlash); }
    document.querySelectorAll("[data-menu]").forEach(wireMenu);
    document.querySelectorAll("[data-dropzone]").forEach(wireDropzone);
    document.querySelectorAll("form[data-upload]").forEach(wireUpload);
    document.querySelectorAll("[data-back]").forEach(wireBack);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
}());
