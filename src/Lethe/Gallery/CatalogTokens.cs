using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Lethe.Gallery;

public enum TokenProblem
{
    None,
    Malformed,
    Unknown,
    Expired,
    Revoked,
}

/// Catalog API access tokens: `lct_` and 43 base64url characters (256 random bits). Only the SHA-256
/// is kept; a lookup by hash is as good as a constant-time compare, since the hash reveals nothing.
public static class CatalogTokens
{
    public const string Prefix = "lct_";
    public const int Length = 47;

    private static readonly SearchValues<char> Base64Url = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string NewToken()
        => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool IsWellFormed(string? token)
        => token is { Length: Length } && token.StartsWith(Prefix, StringComparison.Ordinal)
           && !token.AsSpan(Prefix.Length).ContainsAnyExcept(Base64Url);

    public static string HashOf(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// The decision on a presented token, given what the catalog knows of it (null: not known).
    public static TokenProblem Check(string token, DateTimeOffset? expiresAt, DateTimeOffset? revokedAt, bool known, DateTimeOffset now)
    {
        if (!IsWellFormed(token))
        {
            return TokenProblem.Malformed;
        }
        if (!known)
        {
            return TokenProblem.Unknown;
        }
        if (revokedAt is not null)
        {
            return TokenProblem.Revoked;
        }
        return now >= expiresAt ? TokenProblem.Expired : TokenProblem.None;
    }

    public static string Describe(TokenProblem problem) => problem switch
    {
        TokenProblem.Malformed => "The DataLabAccessToken header is not a Catalog API access token. Get a new token from your profile page.",
        TokenProblem.Unknown => "The access token is not known to this catalog. Get a new token from your profile page.",
        TokenProblem.Expired => "The access token has expired. Get a new token from your profile page.",
        TokenProblem.Revoked => "The access token was revoked. Get a new token from your profile page.",
        _ => "",
    };
}
