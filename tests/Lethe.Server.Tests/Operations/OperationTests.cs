using Lethe.Client;
using Lethe.Jobs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Operations;

/// The status of long work. Jobs are written straight into the server's database here: what is
/// tested is who may see which status, whatever made the job.
public sealed class OperationTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unknown_operation_is_not_found_and_a_malformed_id_is_invalid(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetOperationAsync(Guid.NewGuid().ToString(), Ct));
        var error = await Assert.ThrowsAsync<LetheValidationException>(() => user.Client.GetOperationAsync("operations/not-a-guid", Ct));

        Assert.Equal("operationId", Assert.Single(error.Errors).Key);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_requester_sees_the_operation_and_a_stranger_does_not(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var requester = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Contributor", Ct);
        var stranger = await host.NewUserAsync(Ct);
        var job = await InsertJobAsync(host, requester.ObjectId, Scenario.Scope(id), JobState.Pending, result: null, error: null);

        var status = await requester.Client.GetOperationAsync(job.ToString(), Ct);
        var missing = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.GetOperationAsync(Guid.NewGuid().ToString(), Ct));
        var hidden = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.GetOperationAsync(job.ToString(), Ct));

        Assert.Equal($"/operations/{job:D}", status.Id);
        Assert.Equal(job.ToString(), status.Name);
        Assert.Equal(OperationStates.InProgress, status.Status);
        Assert.Equal(40, status.PercentComplete);
        Assert.Null(status.Error);
        // The same answer as for an operation that does not exist: existence does not leak.
        Assert.Equal(missing.Detail, hidden.Detail);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Whoever_may_read_the_resource_sees_its_operation(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-ops", "westeurope", Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-elsewhere", "westeurope", Ct);
        var requester = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Owner", Ct);
        var groupReader = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, "rg-ops"), "Reader", Ct);
        var otherGroupReader = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, "rg-elsewhere"), "Reader", Ct);
        var job = await InsertJobAsync(host, requester.ObjectId, Scenario.Scope(id, "rg-ops"), JobState.Succeeded, result: "{\"deleted\":3}", error: null);

        var seen = await groupReader.Client.GetOperationAsync(job.ToString(), Ct);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => otherGroupReader.Client.GetOperationAsync(job.ToString(), Ct));

        Assert.Equal(OperationStates.Succeeded, seen.Status);
        Assert.Equal(3, seen.Properties!.Value.GetProperty("deleted").GetInt32());
        // Through the Azure-AsyncOperation URL form too.
        Assert.Equal(seen.Name, (await op.GetOperationAsync($"operations/{job:D}", Ct)).Name);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_operation_shows_failed_with_its_error_message(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        var job = await InsertJobAsync(host, user.ObjectId, resourceId: null, JobState.Failed, result: null, error: "The blob store did not answer.");

        var status = await user.Client.WaitForOperationAsync(job.ToString(), ct: Ct);

        Assert.Equal(OperationStates.Failed, status.Status);
        Assert.Equal(new OperationError("OperationFailed", "The blob store did not answer."), status.Error);
        Assert.NotNull(status.EndTime);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_cancelled_operation_shows_canceled(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        var job = await InsertJobAsync(host, user.ObjectId, resourceId: null, JobState.Cancelled, result: null, error: null);

        var status = await user.Client.GetOperationAsync(job.ToString(), Ct);

        Assert.Equal(OperationStates.Canceled, status.Status);
        Assert.Null(status.Error);
    }

    /// A job that no worker will pick up: pending ones wait a day, the others have ended.
    internal static async Task<Guid> InsertJobAsync(LetheHost host, Guid requestedBy, string? resourceId, JobState state, string? result, string? error)
    {
        var now = DateTimeOffset.UtcNow;
        var ended = state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
        var job = new Job
        {
            Id = Guid.NewGuid(),
            Kind = "tests.no-handler",
            Payload = "{}",
            State = state,
            Attempt = state == JobState.Pending ? 0 : 1,
            RunAfter = state == JobState.Pending ? now.AddDays(1) : now,
            Progress = ended ? 100 : 40,
            Result = result,
            Error = error,
            RequestedBy = requestedBy,
            ResourceId = resourceId,
            CreatedAt = now,
            StartedAt = state == JobState.Pending ? null : now,
            CompletedAt = ended ? now : null,
        };
        return await host.WithDbAsync(async db =>
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            return job.Id;
        });
    }
}
