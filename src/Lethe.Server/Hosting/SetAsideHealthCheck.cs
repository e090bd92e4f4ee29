using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lethe.Server.Hosting;

/// Degraded while a recurring sweep has set records aside (see <see cref="SetAsideRecord"/>): the node
/// still serves, but some erasure is not happening and an operator must look. The description names
/// the sweeps and counts, never the records' content.
internal sealed class SetAsideHealthCheck(LetheDb db) : IHealthCheck
{
    public const string Name = "sweeps";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var counts = await db.SetAsideRecords.AsNoTracking().Where(r => r.SetAside)
            .GroupBy(r => r.Kind).Select(g => new { Kind = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        if (counts.Count == 0)
        {
            return HealthCheckResult.Healthy();
        }
        var data = counts.ToDictionary(c => c.Kind, c => (object)c.Count, StringComparer.Ordinal);
        return HealthCheckResult.Degraded(
            $"Sweeps set records aside after repeated failures: {string.Join(", ", counts.Select(c => $"{c.Kind} ({c.Count})"))}. The log names them; the SetAsideRecords table holds their last error.",
            data: data);
    }
}
