using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Lethe.Server.Portal.Workspaces;

/// A zip streamed to the response as it is made (job "Download all", a model version): never buffered whole.
public sealed class ZipDownload(string fileName, Func<Stream, CancellationToken, Task> write) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.ContentType = "application/zip";
        response.Headers[HeaderNames.ContentDisposition] = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName }.ToString();
        await write(response.Body, context.HttpContext.RequestAborted);
    }
}
