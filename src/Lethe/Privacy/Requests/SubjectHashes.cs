using System.Security.Cryptography;
using System.Text;
using Lethe.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Privacy.Requests;

/// The keyed hash a request keeps of its subject: HMAC-SHA256 under a deployment secret of the person's primary key
/// (<c>oid:{objectId}</c>, else <c>email:{normalized email}</c>, else <c>author:{author ID}</c>), lower-case hex.
/// The same person gets the same hash in every request; nobody without the secret can compute or reverse it.
public sealed class SubjectHashes(IServiceScopeFactory scopes, TimeProvider clock)
{
    public const string SecretName = "subject-hash";

    private byte[]? _secret;

    public async ValueTask<string> OfObjectIdAsync(Guid objectId, CancellationToken ct) => await HashAsync("oid:" + objectId.ToString("D"), ct);

    public async ValueTask<string> OfEmailAsync(string email, CancellationToken ct) => await HashAsync("email:" + SubjectKeys.NormalizeEmail(email), ct);

    public async ValueTask<string> OfAuthorIdAsync(string authorId, CancellationToken ct) => await HashAsync("author:" + authorId.Trim().ToUpperInvariant(), ct);

    /// Every hash a request about any of these keys may carry; none before the first request was filed (the secret
    /// is made then: looking for requests writes nothing, so a dry run changes nothing).
    public async Task<IReadOnlyList<string>> AllOfAsync(SubjectKeys keys, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var hashes = new List<string>();
        if (_secret is null)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            if (!await db.DeploymentSecrets.AnyAsync(s => s.Name == SecretName, ct))
            {
                return hashes;
            }
        }
        foreach (var id in keys.ObjectIds)
        {
            hashes.Add(await OfObjectIdAsync(id, ct));
        }
        foreach (var email in keys.Emails)
        {
            hashes.Add(await OfEmailAsync(email, ct));
        }
        foreach (var author in keys.AuthorIds)
        {
            hashes.Add(await OfAuthorIdAsync(author, ct));
        }
        return hashes;
    }

    private async ValueTask<string> HashAsync(string value, CancellationToken ct)
    {
        if (_secret is null)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            _secret = await DeploymentSecret.GetOrCreateAsync(db, SecretName, clock, ct);
        }
        return Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(value)));
    }
}
