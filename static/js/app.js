// Tell the user when an htmx request fails, instead of leaving the page as
// it was: a refused form (403 after logging in elsewhere), a server error,
// or a server that cannot be reached.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var status = xhr.status;
  // A view that explains a refusal in words answers with plain text.
  var contentType = xhr.getResponseHeader("Content-Type") || "";
  if (contentType.indexOf("text/plain") === 0 && xhr.responseText) {
    showNotice(xhr.responseText);
    return;
  }
  var advice = status === 403
    ? "The page is out of date (were you logged out?). Reload it and try again."
    : "The server answered with an error (" + status + "). Reload the page.";
  showNotice(advice);
});

document.addEventListener("htmx:sendError", function () {
  showNotice("The server could not be reached. Progress shown here may be out of date.");
});

function showNotice(text) {
  var notice = document.getElementById("notice");
  notice.textContent = text;
  notice.hidden = false;
}
