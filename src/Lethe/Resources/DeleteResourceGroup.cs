using System.Text.Json;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Resources;

/// Deleting a resource group deletes what it holds, as Azure does: long work, so a durable job.
/// Each module's content (<see cref="IResourceGroupContent"/>) is one step, checkpointed when done;
/// the last step removes the group's role assignments and the group in one transaction with its
/// checkpoint, so a crash resumes at the step it stopped in and the group is never half gone. What a
/// protection keeps (see <see cref="KeptResource"/>) is listed in the operation's result.
public sealed class DeleteResourceGroup(LetheDb db, IEnumerable<IResourceGroupContent> contents) : IJobHandler
{
    public const string JobKind = "resources.delete-group";

    public sealed record Payload(Guid SubscriptionId, string Name);

    private sealed record Progress(string[] Done, KeptResource[]? Kept = null);

    /// The operation's result: what the delete left for now, and until when.
    public sealed record Outcome(KeptResource[] Kept);

    public string Kind => JobKind;

    public static Task<Job> EnqueueAsync(LetheDb db, ResourceId group, Guid requestedBy, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(group);
        var payload = JsonSerializer.Serialize(new Payload(group.SubscriptionId!.Value, group.ResourceGroup!), JobQueue.Json);
        return JobQueue.EnqueueExclusiveAsync(db, JobKind, payload, requestedBy, group.Value, clock, ct);
    }

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var payload = context.ReadPayload<Payload>();
        var key = payload.Name.ToLowerInvariant();
        var steps = contents.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        var progress = context.Job.Checkpoint is { Length: > 0 } checkpoint && checkpoint.Contains("\"Done\"", StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<Progress>(checkpoint)!
            : new Progress([]);
        var done = progress.Done.ToList();
        var kept = (progress.Kept ?? []).ToList();
        foreach (var step in steps.Where(s => !done.Contains(s.Name)))
        {
            kept.AddRange(await step.DeleteAllAsync(payload.SubscriptionId, key, ct));
            done.Add(step.Name);
            await context.CheckpointAsync(JsonSerializer.Serialize(new Progress([.. done], [.. kept])), 90 * done.Count / (steps.Count + 1), ct);
        }
        context.SetResult(JsonSerializer.Serialize(new Outcome([.. kept]), JobQueue.Json));
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.SubscriptionId == payload.SubscriptionId && a.ResourceGroupKey == key).ExecuteDeleteAsync(ct);
        await db.ResourceGroups.Where(g => g.SubscriptionId == payload.SubscriptionId && g.NameKey == key).ExecuteDeleteAsync(ct);
        await context.CheckpointAsync("""{"deleted":true}""", 100, ct);
        await transaction.CommitAsync(ct);
        // Again, once the group's row is gone for every reader: a role assignment committed after the first sweep
        // had checked its scope before that (decision 0071).
        await db.RoleAssignments.Where(a => a.SubscriptionId == payload.SubscriptionId && a.ResourceGroupKey == key).ExecuteDeleteAsync(ct);
    }
}
