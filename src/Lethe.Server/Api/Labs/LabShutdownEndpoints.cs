using System.Security.Claims;
using Lethe.Client;
using Lethe.Labs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Api.Labs;

/// The postpone and skip actions of an auto-shutdown notice. The token from the notice's link is the
/// credential (as in an unsubscribe link): whoever received the notice may act on it.
public static class LabShutdownEndpoints
{
    internal static void Map(WebApplication app)
    {
        var notices = app.MapGroup("/labs/shutdown-notices").AllowAnonymous().WithTags("Labs");
        notices.MapPost("/{token}/postpone", PostponeAsync).WithName("PostponeShutdown");
        notices.MapPost("/{token}/skip", SkipAsync).WithName("SkipShutdown");
    }

    /// A VM's pending shutdown for its owner and lab admins: seen, postponed, skipped without the email
    /// (which may never come: no SMTP server, no address, a failing server).
    internal static void MapVm(RouteGroupBuilder lab)
    {
        lab.MapGet("/virtualmachines/{vmName}/shutdown", GetVmShutdownAsync).WithName("GetLabVirtualMachineShutdown");
        lab.MapPost("/virtualmachines/{vmName}/shutdown/postpone", PostponeVmShutdownAsync).WithName("PostponeLabVirtualMachineShutdown");
        lab.MapPost("/virtualmachines/{vmName}/shutdown/skip", SkipVmShutdownAsync).WithName("SkipLabVirtualMachineShutdown");
    }

    public static async Task<Results<Ok<LabVmShutdown>, ProblemHttpResult, ValidationProblem>> GetVmShutdownAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        var found = await LabVirtualMachineEndpoints.FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, principal.ObjectId(), ct, act: true);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Vm is not { } vm)
        {
            return found.Problem!;
        }
        var pending = await PendingShutdown.FindAsync(db, found.Lab!, vm, clock.GetUtcNow(), ct);
        return pending is null ? NoSchedule() : TypedResults.Ok(ToContract(pending));
    }

    public static Task<Results<Ok<LabVmShutdown>, ProblemHttpResult, ValidationProblem>> PostponeVmShutdownAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, PostponeShutdownRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Minutes is < ShutdownNotices.MinPostponeMinutes or > ShutdownNotices.MaxPostponeMinutes)
        {
            return Task.FromResult<Results<Ok<LabVmShutdown>, ProblemHttpResult, ValidationProblem>>(Problems.Invalid("minutes", ShutdownNotices.PostponeLimits));
        }
        return ActAsync(subscriptionId, resourceGroupName, labName, vmName, principal, db, clock, (notice, token) => ShutdownNotices.PostponeAsync(db, notice, request.Minutes, token), ct);
    }

    public static Task<Results<Ok<LabVmShutdown>, ProblemHttpResult, ValidationProblem>> SkipVmShutdownAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
        => ActAsync(subscriptionId, resourceGroupName, labName, vmName, principal, db, clock, (notice, token) => ShutdownNotices.SkipAsync(db, notice, token), ct);

    private static async Task<Results<Ok<LabVmShutdown>, ProblemHttpResult, ValidationProblem>> ActAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock,
        Func<LabShutdownNotice, CancellationToken, Task<ShutdownNotices.Outcome>> act, CancellationToken ct)
    {
        var found = await LabVirtualMachineEndpoints.FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, principal.ObjectId(), ct, act: true);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Vm is not { } vm)
        {
            return found.Problem!;
        }
        var now = clock.GetUtcNow();
        if (await PendingShutdown.EnsureNoticeAsync(db, found.Lab!, vm, now, ct) is not { } notice)
        {
            return NoSchedule();
        }
        var outcome = await act(notice, ct);
        if (outcome != ShutdownNotices.Outcome.Done)
        {
            return Problem(outcome);
        }
        var pending = await PendingShutdown.FindAsync(db, found.Lab!, vm, now, ct);
        return pending is null ? NoSchedule() : TypedResults.Ok(ToContract(pending));
    }

    private static ProblemHttpResult NoSchedule()
        => Problems.NotFound("A pending auto-shutdown of the virtual machine (it has no schedule of its own or of its lab, or it is stopped)");

    internal static LabVmShutdown ToContract(PendingShutdown p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var n = p.Notice;
        return new LabVmShutdown(p.ScheduledFor, p.ShutdownAt, p.NoticeAt, n is null ? "Scheduled" : n.State.ToString(),
            n is null ? null : new LabShutdownNoticeMail(n.MailState.ToString(), n.MailAttempts, n.EmailSentAt, n.MailNextAttemptAt, n.MailLastError),
            ShutdownNotices.MinPostponeMinutes, ShutdownNotices.MaxPostponeMinutes);
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> PostponeAsync(string token, PostponeShutdownRequest request, LetheDb db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Answer(await ShutdownNotices.PostponeAsync(db, token, request.Minutes, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> SkipAsync(string token, LetheDb db, CancellationToken ct)
        => Answer(await ShutdownNotices.SkipAsync(db, token, ct));

    private static Results<NoContent, ProblemHttpResult, ValidationProblem> Answer(ShutdownNotices.Outcome outcome) => outcome switch
    {
        ShutdownNotices.Outcome.Done => TypedResults.NoContent(),
        ShutdownNotices.Outcome.InvalidMinutes => Problems.Invalid("minutes", ShutdownNotices.PostponeLimits),
        _ => Problem(outcome),
    };

    /// What a refused action says: the words the portal shows too.
    internal static ProblemHttpResult Problem(ShutdownNotices.Outcome outcome) => outcome switch
    {
        ShutdownNotices.Outcome.AlreadyShutDown => Problems.Conflict(AlreadyShutDown),
        ShutdownNotices.Outcome.Skipped => Problems.Conflict(SkippedCannotBePostponed),
        _ => Problems.NotFound("The shutdown notice"),
    };

    public const string AlreadyShutDown = "The virtual machine has already been shut down.";

    public const string SkippedCannotBePostponed = "This shutdown was skipped, so it cannot be postponed: the virtual machine keeps running until its next scheduled shutdown, which gets its own notice.";
}
