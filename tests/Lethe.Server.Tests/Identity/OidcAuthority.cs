using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Lethe.Server.Tests.Identity;

/// A real, minimal OpenID Connect authority on a loopback port: the discovery document and the
/// JWKS of an RSA key, which is all a JWT bearer handler fetches. It mints tokens with that key.
public sealed class OidcAuthority : IAsyncDisposable
{
    public const string KeyId = "test-key-1";

    private readonly WebApplication _app;
    private readonly RSA _key;

    private OidcAuthority(WebApplication app, RSA key, string issuer)
    {
        _app = app;
        _key = key;
        Issuer = issuer;
    }

    /// The authority URL, which is also the tokens' issuer.
    public string Issuer { get; }

    public static async Task<OidcAuthority> StartAsync(CancellationToken ct = default)
    {
        var key = RSA.Create(2048);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var jwks = new
        {
            keys = new[]
            {
                new { kty = "RSA", use = "sig", alg = "RS256", kid = KeyId, n = Base64Url.EncodeToString(parameters.Modulus), e = Base64Url.EncodeToString(parameters.Exponent) },
            },
        };
        string? issuer = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer!,
            ["jwks_uri"] = issuer + ".well-known/jwks.json",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
        }));
        app.MapGet("/.well-known/jwks.json", () => Results.Json(jwks));
        await app.StartAsync(ct);
        // Port 0: Kestrel chose a free port, and the address list now names it.
        issuer = app.Urls.Single().TrimEnd('/') + "/";
        return new OidcAuthority(app, key, issuer);
    }

    /// A token as an identity provider issues it; <paramref name="claims"/> adds to or replaces the defaults.
    public string Mint(IDictionary<string, object> claims, string audience = "lethe", string? issuer = null, DateTime? expires = null, RSA? signWith = null, string keyId = KeyId)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            IssuedAt = (expires ?? now.AddMinutes(10)).AddMinutes(-15),
            NotBefore = (expires ?? now.AddMinutes(10)).AddMinutes(-15),
            Expires = expires ?? now.AddMinutes(10),
            Claims = new Dictionary<string, object>(claims),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(signWith ?? _key) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Dispose();
    }
}
