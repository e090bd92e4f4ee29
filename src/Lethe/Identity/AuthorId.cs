using System.Security.Cryptography;
using System.Text;

namespace Lethe.Identity;

/// Seed 000: "The Author ID is based on the email address used when publishing ... It does not change."
/// Upper-case hex HMAC-SHA256 of the trimmed, lower-cased UTF-8 email under the deployment's secret:
/// stable for the person, yet not computable by an outsider who knows the email.
public static class AuthorId
{
    public const int Length = 64;

    public static string For(string email, ReadOnlySpan<byte> deploymentSecret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        if (deploymentSecret.Length < 32)
        {
            throw new ArgumentException("The author ID secret must be at least 256 bits.", nameof(deploymentSecret));
        }
        var canonical = Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant());
        return Convert.ToHexString(HMACSHA256.HashData(deploymentSecret, canonical));
    }

    public static bool IsWellFormed(string? value)
        => value is { Length: Length } && value.All(c => c is (>= '0' and <= '9') or (>= 'A' and <= 'F'));
}
