using Lethe.Gallery;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Gallery;

internal static class CatalogTokensForTests
{
    public static string NewToken() => CatalogTokens.NewToken();

    /// Moves a token's expiry into the past as a write of the catalog would: with the next catalog version.
    public static async Task<int> ExpireAsync(LetheDb db, string token, CancellationToken ct)
    {
        var hash = CatalogTokens.HashOf(token);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var version = (await db.Database.SqlQueryRaw<long>("UPDATE \"GalleryCatalogVersions\" SET \"Value\" = \"Value\" + 1 WHERE \"Id\" = 1 RETURNING \"Value\"").ToListAsync(ct)).Single();
        var changed = await db.CatalogTokens.Where(t => t.Hash == hash)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)).SetProperty(t => t.ChangeVersion, version), ct);
        await transaction.CommitAsync(ct);
        return changed;
    }
}
