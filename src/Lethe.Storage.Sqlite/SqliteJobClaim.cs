using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Storage.Sqlite;

/// One statement claims one job: SQLite runs one writer at a time, so the select and the update
/// inside it cannot interleave with another claim.
internal sealed class SqliteJobClaim : IJobClaimer
{
    public async Task<Job?> ClaimAsync(LetheDb db, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        // Raw SQL bypasses the value converters: times go in as the model stores them (see LetheDb).
        var at = Stored(db, now);
        var until = Stored(db, now + lease);
        string pending = nameof(JobState.Pending), running = nameof(JobState.Running);
        var claimed = await db.Jobs.FromSql($"""
            UPDATE "Jobs"
            SET "State" = {running},
                "LeaseOwner" = {owner},
                "LeaseUntil" = {until},
                "Attempt" = "Attempt" + 1,
                "LostLeases" = "LostLeases" + CASE WHEN "State" = {running} THEN 1 ELSE 0 END,
                "StartedAt" = COALESCE("StartedAt", {at})
            WHERE "Id" = (
                SELECT "Id" FROM "Jobs"
                WHERE ("State" = {pending} AND "RunAfter" <= {at})
                   OR ("State" = {running} AND "LeaseUntil" < {at})
                ORDER BY "RunAfter"
                LIMIT 1)
            RETURNING *
            """).AsNoTracking().ToListAsync(ct);
        return claimed.SingleOrDefault();
    }

    private static object Stored(LetheDb db, DateTimeOffset value)
    {
        var converter = db.Model.FindEntityType(typeof(Job))!.FindProperty(nameof(Job.LeaseUntil))!.GetTypeMapping().Converter;
        return converter?.ConvertToProvider(value) ?? value;
    }
}
