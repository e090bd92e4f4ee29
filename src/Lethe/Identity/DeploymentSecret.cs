using System.Security.Cryptography;
using Lethe.Privacy;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Identity;

/// A secret made once per deployment at first start and kept with the data, so that every node
/// (and every restart) derives the same author IDs.
public sealed class DeploymentSecret
{
    public const string AuthorIdKey = "author-id";

    /// Derives the key that encrypts the data-protection keys at rest (Lethe.Server's DataProtection).
    public const string DataProtectionKey = "data-protection";

    [NotPersonalData("Names the secret (\"author-id\", \"data-protection\"), not a person.")]
    public required string Name { get; init; }
    public required byte[] Value { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// Returns the named secret, creating it on first use. Two nodes starting at once race on the
    /// primary key; the loser reads the winner's value.
    public static async Task<byte[]> GetOrCreateAsync(LetheDb db, string name, TimeProvider clock, CancellationToken ct)
    {
        var existing = await db.DeploymentSecrets.AsNoTracking().Where(s => s.Name == name).Select(s => s.Value).FirstOrDefaultAsync(ct);
        if (existing is not null)
        {
            return existing;
        }
        var secret = new DeploymentSecret { Name = name, Value = RandomNumberGenerator.GetBytes(32), CreatedAt = clock.GetUtcNow() };
        db.DeploymentSecrets.Add(secret);
        try
        {
            await db.SaveChangesAsync(ct);
            return secret.Value;
        }
        catch (DbUpdateException)
        {
            db.Entry(secret).State = EntityState.Detached;
            return await db.DeploymentSecrets.AsNoTracking().Where(s => s.Name == name).Select(s => s.Value).FirstAsync(ct);
        }
    }
}
