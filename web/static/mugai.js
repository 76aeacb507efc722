// mugai-web: the console's only script (served by mugai-web itself).
// It only asks before an irreversible action; every page works without it.
document.addEventListener("DOMContentLoaded", function () {
	document.querySelectorAll("form[data-confirm]").forEach(function (f) {
		f.addEventListener("submit", function (e) {
			if (!window.confirm(f.getAttribute("data-confirm")))
				e.preventDefault();
		});
	});
});
