using Lethe.Blobs;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Workspaces;

public sealed partial class WorkspaceApiTests
{
    /// Purge protection is never bypassed, not even by deleting the group (as Azure Key Vault keeps a
    /// protected vault): the group goes, its protected workspaces stay soft-deleted until their retention
    /// ends, the operation's result says so, and the retention sweep purges them then.
    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Deleting_the_resource_group_keeps_purge_protected_workspaces_until_their_retention_ends(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var protectedRequest = new CreateWorkspaceRequest("westeurope", SoftDeleteRetentionInDays: 7, EnablePurgeProtection: true);
        await op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-deleted", protectedRequest, Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, "ws-deleted", "job1", new SubmitJobRequest("exp"), Ct);
        await op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, "ws-deleted", Ct);
        var deletedPurgeAfter = await s.Host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == s.SubscriptionId && w.NameKey == "ws-deleted").Select(w => w.PurgeAfter).SingleAsync(Ct));
        await op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-live", protectedRequest, Ct);

        using var response = await op.SendRawAsync(HttpMethod.Delete, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}", null, Ct);
        var status = await op.WaitForOperationAsync(response.Headers.GetValues("Azure-AsyncOperation").First(), pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);

        Assert.Equal(OperationStates.Succeeded, status.Status);
        var kept = status.Properties!.Value.GetProperty("kept").EnumerateArray().ToList();
        Assert.Equal(["ws-deleted", "ws-live"], kept.Select(k => k.GetProperty("id").GetString()!.Split('/')[^1]).Order(StringComparer.Ordinal));
        Assert.All(kept, k => Assert.Contains("Purge protection", k.GetProperty("reason").GetString(), StringComparison.Ordinal));
        var left = await s.Host.WithDbAsync(db => db.Workspaces.AsNoTracking().Where(w => w.SubscriptionId == s.SubscriptionId).OrderBy(w => w.NameKey).ToListAsync(Ct));
        Assert.Equal(["ws-deleted", "ws-live"], left.Select(w => w.Name));
        Assert.All(left, w => Assert.NotNull(w.DeletedAt));
        Assert.Equal(deletedPurgeAfter, left[0].PurgeAfter);
        Assert.InRange(left[1].PurgeAfter!.Value, DateTimeOffset.UtcNow.AddDays(7).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        Assert.Equal(deletedPurgeAfter, kept.Single(k => k.GetProperty("id").GetString()!.EndsWith("/ws-deleted", StringComparison.Ordinal)).GetProperty("until").GetDateTimeOffset());
        var unprotected = s.Name.ToLowerInvariant();
        Assert.False(await s.Host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.SubscriptionId == s.SubscriptionId && w.NameKey == unprotected, Ct)));

        // Their retention ends: the sweep purges them.
        await s.Host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == s.SubscriptionId)
            .ExecuteUpdateAsync(set => set.SetProperty(w => w.PurgeAfter, DateTimeOffset.UtcNow.AddMinutes(-1)), Ct));
        await s.Host.RunSweepAsync(PurgeExpiredWorkspaces.JobKind, Ct);
        Assert.False(await s.Host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.SubscriptionId == s.SubscriptionId, Ct)));
    }

    [Fact]
    public void Purge_protection_keeps_a_workspace_until_its_retention_ends()
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        Workspace W(bool protection, DateTimeOffset? deletedAt, DateTimeOffset? purgeAfter) => new()
        {
            ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "w", NameKey = "w", Location = "westeurope",
            StorageAccount = "s", ContainerRegistry = "c", ApplicationInsights = "a", KeyVault = "k",
            PurgeProtection = protection, DeletedAt = deletedAt, PurgeAfter = purgeAfter, SoftDeleteRetentionDays = 3,
        };

        Assert.Null(WorkspacesInResourceGroup.KeptUntil(W(false, null, null), now));
        Assert.Null(WorkspacesInResourceGroup.KeptUntil(W(false, now.AddDays(-1), now.AddDays(5)), now));
        Assert.Equal(now.AddDays(3), WorkspacesInResourceGroup.KeptUntil(W(true, null, null), now));
        Assert.Equal(now.AddDays(5), WorkspacesInResourceGroup.KeptUntil(W(true, now.AddDays(-1), now.AddDays(5)), now));
        Assert.Null(WorkspacesInResourceGroup.KeptUntil(W(true, now.AddDays(-9), now), now));
    }
}
