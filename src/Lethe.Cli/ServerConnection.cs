using System.Net;
using System.Net.Http.Headers;
using Lethe.Client;

namespace Lethe.Cli;

/// An SDK client bound to one server, with the HttpClient it owns.
internal sealed class ServerConnection : IDisposable
{
    public const string DefaultServer = "http://127.0.0.1:5080/";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);

    private readonly HttpClient _http;

    private ServerConnection(Uri server, HttpMessageHandler handler)
    {
        Server = server;
        // The timeout lives in ReachabilityHandler, which can tell it from Ctrl-C.
        _http = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        Client = new LetheClient(_http);
    }

    public Uri Server { get; }
    public LetheClient Client { get; }

    public static ServerConnection Anonymous(Uri server)
        => new(server, new ReachabilityHandler(server) { InnerHandler = new SocketsHttpHandler() });

    /// Sends the stored access token, refreshing it (and saving the new one) when it has expired or the server answers 401.
    public static ServerConnection SignedIn(Uri server, Credentials credentials, CredentialStore store, TimeProvider clock)
        => new(server, new ReachabilityHandler(server) { InnerHandler = new BearerTokenHandler(credentials, store, clock) { InnerHandler = new SocketsHttpHandler() } });

    /// --server, else $LETHE_SERVER, else the server of the stored login, else the default.
    public static Uri Resolve(string? option, Terminal terminal, Credentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        if (!string.IsNullOrWhiteSpace(option))
        {
            return Parse(option, "--server");
        }
        if (terminal.Variable("LETHE_SERVER") is { Length: > 0 } variable)
        {
            return Parse(variable, "LETHE_SERVER");
        }
        return credentials?.Server ?? new Uri(DefaultServer);
    }

    /// An absolute http(s) URL, with a trailing slash so that the SDK's relative paths land below it.
    public static Uri Parse(string value, string source)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw CliException.Usage($"{source} is not an http or https URL: '{value}'.", "For example: http://127.0.0.1:5080");
        }
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/" + uri.Query);
    }

    public void Dispose() => _http.Dispose();

    /// Turns "no answer" (refused, unknown host, TLS failure, timeout) into exit code 4 with the URL named.
    private sealed class ReachabilityHandler(Uri server) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                return await base.SendAsync(request, timeout.Token);
            }
            catch (HttpRequestException e) when (e.StatusCode is null)
            {
                throw Unreachable(server, e.Message, e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Unreachable(server, $"no answer within {RequestTimeout.TotalSeconds:0} seconds", e);
            }
        }
    }

    public static CliException Unreachable(Uri server, string reason, Exception? inner = null)
        => new(ExitCodes.Unreachable, $"Cannot reach the Lethe server at {server}: {reason.TrimEnd('.')}.",
            "Is it running? Start one with `lethe serve`, or name another with --server or LETHE_SERVER.", inner);

    private sealed class BearerTokenHandler(Credentials credentials, CredentialStore store, TimeProvider clock) : DelegatingHandler
    {
        private Credentials _credentials = credentials;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var refreshed = false;
            if (_credentials.IsExpired(clock))
            {
                await RefreshAsync(cancellationToken);
                refreshed = true;
            }
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _credentials.AccessToken);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized || refreshed)
            {
                return response;
            }
            // The server may have restarted with new keys, or revoked the token: one refresh, one retry.
            response.Dispose();
            await RefreshAsync(cancellationToken);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _credentials.AccessToken);
            return await base.SendAsync(request, cancellationToken);
        }

        private async Task RefreshAsync(CancellationToken ct)
        {
            using var http = new HttpClient(InnerHandler!, disposeHandler: false) { BaseAddress = _credentials.Server, Timeout = Timeout.InfiniteTimeSpan };
            AccessTokenResponse tokens;
            try
            {
                tokens = await new LetheClient(http).RefreshAsync(_credentials.RefreshToken, ct);
            }
            catch (LetheUnauthorizedException e)
            {
                throw new CliException(ExitCodes.NotLoggedIn, $"Your session at {_credentials.Server} has expired.", "Run `lethe login` to sign in again.", e);
            }
            _credentials = _credentials with
            {
                AccessToken = tokens.AccessToken,
                RefreshToken = tokens.RefreshToken,
                ExpiresAt = clock.GetUtcNow().AddSeconds(tokens.ExpiresIn),
            };
            await store.SaveAsync(_credentials, ct);
        }
    }
}
