// The profile page's Copy button: copies the new access token without the browser's developer tools.
document.querySelectorAll("[data-copy-target]").forEach(button => {
    button.addEventListener("click", async () => {
        const input = document.getElementById(button.dataset.copyTarget);
        const status = document.getElementById(button.dataset.copyStatus);
        try {
            await navigator.clipboard.writeText(input.value);
        } catch {
            // Without the Clipboard API (plain http on another host), the selection and the older command still work.
            input.select();
            document.execCommand("copy");
        }
        if (status) {
            status.textContent = "Copied to the clipboard.";
        }
    });
});
