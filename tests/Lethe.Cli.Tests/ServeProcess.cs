using System.Diagnostics;
using System.Text;

namespace Lethe.Cli.Tests;

/// One `lethe serve` process, for the tests that run the server as a deployment does (killed, several at once): on a
/// free loopback port and the given data folder, with the environment the test gives. What it writes is drained into
/// a log file, so that a full pipe never blocks it and a failure can show what it said. Ready once /health/live answers.
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _log;
    private bool _disposed;

    private ServeProcess(Process process, Uri url, string log)
    {
        _process = process;
        _log = log;
        Url = url;
        Http = new HttpClient { BaseAddress = url };
    }

    public Uri Url { get; }

    /// A client on the server's address, disposed with it.
    public HttpClient Http { get; }

    public int ProcessId => _process.Id;

    public static async Task<ServeProcess> StartAsync(string data, IReadOnlyDictionary<string, string> environment, string log, TimeSpan patience, CancellationToken ct)
    {
        var url = new Uri($"http://127.0.0.1:{LetheCommand.FreePort()}/");
        var info = LetheCommand.StartInfo(["serve", "--urls", url.ToString().TrimEnd('/'), "--data", data]);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(log))!);
        var process = Process.Start(info) ?? throw new InvalidOperationException("lethe serve did not start.");
        var file = new FileStream(log, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 4096, FileOptions.Asynchronous);
        _ = DrainAsync(process, file);
        var server = new ServeProcess(process, url, log);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var live = await server.Http.GetAsync(new Uri("health/live", UriKind.Relative), ct);
                if (live.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited || waited.Elapsed > patience)
            {
                var reason = process.HasExited ? $"it exited with {process.ExitCode}" : $"no answer within {patience.TotalMinutes} minutes";
                await server.DisposeAsync();
                Assert.Fail($"lethe serve did not start: {reason}\n{server.Log()}");
            }
            await Task.Delay(50, ct);
        }
    }

    private static async Task DrainAsync(Process process, FileStream file)
    {
        await using (file)
        {
            var gate = new SemaphoreSlim(1);
            async Task CopyAsync(StreamReader from)
            {
                while (await from.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    var bytes = Encoding.UTF8.GetBytes(line + "\n");
                    await gate.WaitAsync(CancellationToken.None);
                    try
                    {
                        await file.WriteAsync(bytes, CancellationToken.None);
                        await file.FlushAsync(CancellationToken.None);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }
            await Task.WhenAll(CopyAsync(process.StandardOutput), CopyAsync(process.StandardError));
        }
    }

    /// SIGKILL: the process ends at once, in whatever it was doing, without handing its jobs back.
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// The end of what the process wrote, for a failure's message.
    public string Log()
    {
        try
        {
            using var file = new FileStream(_log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(file);
            var text = reader.ReadToEnd();
            return $"--- {Path.GetFileName(_log)} ---\n" + (text.Length > 4000 ? text[^4000..] : text);
        }
        catch (IOException e)
        {
            return $"(the server's log could not be read: {e.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
        Http.Dispose();
    }
}
