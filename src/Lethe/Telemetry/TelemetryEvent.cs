using Lethe.Jobs;
using Lethe.Privacy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Telemetry;

/// A record of one user action (seed 000: "telemetry records of user interactions with the service"):
/// who, what, on which resource, when. Kept for <see cref="TelemetryOptions.RetentionDays"/>, then deleted
/// by <see cref="TelemetryRetentionSweep"/>; the Privacy module exports and erases a subject's events.
[Erasure(ErasureStrategy.Delete, Reason = "Usage records of an erased person go with them; all go when their retention ends.")]
public sealed class TelemetryEvent
{
    public Guid Id { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid UserId { get; init; }

    /// The action, e.g. "workspaces.delete" (the API operation's name).
    public required string Action { get; init; }

    /// The resource acted on: its resource ID (a workspace, a resource group), never a raw request path, which can
    /// hold another person's object ID or email.
    public required string Resource { get; init; }

    /// The API route's template (`/subscriptions/{subscriptionId}/.../members/{principalId}`) or the portal page.
    public string Route { get; init; } = "";

    public DateTimeOffset OccurredAt { get; init; }
}

internal sealed class TelemetryEventConfiguration : IEntityTypeConfiguration<TelemetryEvent>
{
    public void Configure(EntityTypeBuilder<TelemetryEvent> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.Action).HasMaxLength(128);
        e.Property(x => x.Resource).HasMaxLength(2048);
        e.Property(x => x.Route).HasMaxLength(512);
        e.HasIndex(x => x.UserId);
        e.HasIndex(x => x.OccurredAt);
    }
}

public sealed class TelemetryOptions
{
    public const string Section = "Lethe:Telemetry";

    /// Days a telemetry event is kept.
    public int RetentionDays { get; set; } = 90;
}

/// Records telemetry events. Saves at once: an action's telemetry must not depend on the caller saving.
public sealed class TelemetryRecorder(LetheDb db, TimeProvider clock)
{
    public const int MaxAction = 128;

    /// Whether this request recorded its event itself (a portal page that names its resource better than its route).
    public bool Recorded { get; private set; }

    public Task RecordAsync(Guid userId, string action, string resource, CancellationToken ct) => RecordAsync(userId, action, "", resource, ct);

    public async Task RecordAsync(Guid userId, string action, string route, string resource, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentException.ThrowIfNullOrEmpty(action);
        ArgumentNullException.ThrowIfNull(resource);
        var now = clock.GetUtcNow();
        db.TelemetryEvents.Add(new TelemetryEvent
        {
            Id = Guid.CreateVersion7(now),
            UserId = userId,
            Action = action.Length > MaxAction ? action[..MaxAction] : action,
            Resource = resource.Length > 2048 ? resource[..2048] : resource,
            Route = route.Length > 512 ? route[..512] : route,
            OccurredAt = now,
        });
        await db.SaveChangesAsync(ct);
        Recorded = true;
    }
}

/// Deletes telemetry events older than the retention, in one statement, daily. When that statement
/// fails, the due events are deleted one by one, so that one event that cannot be deleted is set
/// aside and reported and the others still go on time.
public sealed class TelemetryRetentionSweep(
    LetheDb db,
    TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<TelemetryOptions> options,
    Microsoft.Extensions.Logging.ILogger<TelemetryRetentionSweep> logger) : RecurringJob(db, clock, logger)
{
    public const string JobKind = "telemetry.retention";

    // Events deleted one by one in a run after the bulk statement failed; the rest wait for the next run.
    private const int OneByOneLimit = 10_000;

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromDays(1);

    public static DateTimeOffset Cutoff(DateTimeOffset now, int retentionDays) => now.AddDays(-retentionDays);

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var cutoff = Cutoff(Clock.GetUtcNow(), options.Value.RetentionDays);
        var setAside = SetAsideKeys;
        var due = Db.TelemetryEvents.Where(e => e.OccurredAt < cutoff && !setAside.Contains(e.Id.ToString().ToLower()));
        try
        {
            var deleted = await due.ExecuteDeleteAsync(ct);
            return $$"""{"deleted":{{deleted}}}""";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var ids = await due.OrderBy(e => e.OccurredAt).Select(e => e.Id).Take(OneByOneLimit).ToListAsync(ct);
            var deleted = 0;
            foreach (var id in ids)
            {
                if (await TryRecordAsync(id.ToString(), c => Db.TelemetryEvents.Where(e => e.Id == id).ExecuteDeleteAsync(c), ct))
                {
                    deleted++;
                }
            }
            return $$"""{"deleted":{{deleted}},"failed":{{ids.Count - deleted}}}""";
        }
    }
}
