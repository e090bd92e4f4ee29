using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Resources;

/// Deleting a resource group deletes what it holds, as Azure does: long work, so a durable job.
/// The steps run in one transaction with their checkpoint, so a crash leaves the group whole or gone.
public sealed class DeleteResourceGroup(LetheDb db) : IJobHandler
{
    public const string JobKind = "resources.delete-group";

    public sealed record Payload(Guid SubscriptionId, string Name);

    public string Kind => JobKind;

    public static Task<Job> EnqueueAsync(LetheDb db, ResourceId group, Guid requestedBy, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(group);
        return JobQueue.EnqueueAsync(db, JobKind, new Payload(group.SubscriptionId!.Value, group.ResourceGroup!), requestedBy, group.Value, clock, ct);
    }

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var payload = context.ReadPayload<Payload>();
        var key = payload.Name.ToLowerInvariant();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.SubscriptionId == payload.SubscriptionId && a.ResourceGroupKey == key).ExecuteDeleteAsync(ct);
        await db.ResourceGroups.Where(g => g.SubscriptionId == payload.SubscriptionId && g.NameKey == key).ExecuteDeleteAsync(ct);
        await context.CheckpointAsync("""{"deleted":true}""", 100, ct);
        await transaction.CommitAsync(ct);
    }
}
