using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Storage.Postgres;

/// One statement claims one job. SKIP LOCKED lets concurrent claimers pass over the row another
/// claimer has locked and take the next one, instead of waiting for it and then finding it taken.
internal sealed class PostgresJobClaim : IJobClaimer
{
    public async Task<Job?> ClaimAsync(LetheDb db, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        // timestamptz parameters must be UTC for Npgsql.
        var at = now.ToUniversalTime();
        var until = at + lease;
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
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).AsNoTracking().ToListAsync(ct);
        return claimed.SingleOrDefault();
    }
}
