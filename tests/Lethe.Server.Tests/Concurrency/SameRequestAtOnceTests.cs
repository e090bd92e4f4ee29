using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Concurrency;

/// Issue 12, item 1: the same mutating request sent many times at once ends in one consistent state; the
/// requests that lost answer 409 (or succeed idempotently), never 500 (decision 0070). One server per provider,
/// each test with its own subscription and users.
public sealed class SameRequestAtOnceTests(Servers servers) : IClassFixture<Servers>
{
    private const int AtOnce = 12;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Members_added_at_once_with_different_roles_leave_one_member_with_one_assignment(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        var person = await host.NewUserAsync(Ct);
        string[] roles = ["Owner", "Reader", "Contributor"];

        var outcomes = await AtOnceAsync(i => ws.Owner.AddWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, new AddWorkspaceMemberRequest(roles[i % 3], PrincipalId: person.ObjectId), Ct));

        AssertNoServerError(host, outcomes);
        Assert.Contains(outcomes, o => o.Succeeded);
        var member = Assert.Single(await ws.Owner.ListWorkspaceMembersAsync(ws.Sub, ws.Group, ws.Name, Ct), m => m.PrincipalId == person.ObjectId);
        var assignment = Assert.Single(await AssignmentsAtAsync(ws, person.ObjectId));
        Assert.Equal(member.Role, assignment.Properties.RoleDefinitionName);

        await ws.Owner.RemoveWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, person.ObjectId, Ct);

        Assert.Empty(await AssignmentsAtAsync(ws, person.ObjectId));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => person.Client.GetWorkspaceAsync(ws.Sub, ws.Group, ws.Name, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Members_changed_and_removed_at_once_match_their_role_assignments(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        var person = await host.NewUserAsync(Ct);
        await ws.Owner.AddWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, new AddWorkspaceMemberRequest("Owner", PrincipalId: person.ObjectId), Ct);
        string[] roles = ["Reader", "Contributor", "Owner"];

        // A third of the requests remove the member, the others give it another role.
        var outcomes = await AtOnceAsync(async i =>
        {
            if (i % 3 == 0)
            {
                await ws.Owner.RemoveWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, person.ObjectId, Ct);
                return "removed";
            }
            return (await ws.Owner.AddWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, new AddWorkspaceMemberRequest(roles[i % 3], PrincipalId: person.ObjectId), Ct)).Role;
        });

        AssertNoServerError(host, outcomes, HttpStatusCode.NotFound);
        await AssertMembersMatchAssignmentsAsync(ws);
        // Whatever the outcome, removing the member leaves no right at all.
        await RemoveIfMemberAsync(ws, person.ObjectId);
        Assert.Empty(await AssignmentsAtAsync(ws, person.ObjectId));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => person.Client.GetWorkspaceAsync(ws.Sub, ws.Group, ws.Name, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_member_removed_at_once_is_removed_once_and_keeps_no_right(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        var person = await host.NewUserAsync(Ct);
        await ws.Owner.AddWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, new AddWorkspaceMemberRequest("Owner", PrincipalId: person.ObjectId), Ct);

        var outcomes = await AtOnceAsync(async _ =>
        {
            await ws.Owner.RemoveWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, person.ObjectId, Ct);
            return true;
        });

        AssertNoServerError(host, outcomes, HttpStatusCode.NotFound);
        Assert.Single(outcomes, o => o.Succeeded);
        Assert.DoesNotContain(await ws.Owner.ListWorkspaceMembersAsync(ws.Sub, ws.Group, ws.Name, Ct), m => m.PrincipalId == person.ObjectId);
        Assert.Empty(await AssignmentsAtAsync(ws, person.ObjectId));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_members_role_assignment_is_removed_with_the_member_not_behind_its_back(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        var person = await MemberAsync(host, ws, "Contributor");
        var assignment = Assert.Single(await AssignmentsAtAsync(ws, person.ObjectId));

        var refused = await Assert.ThrowsAsync<LetheConflictException>(() => ws.Owner.DeleteRoleAssignmentAsync(Guid.Parse(assignment.Name), Ct));

        Assert.Contains("remove the member", refused.Detail, StringComparison.Ordinal);
        await AssertMembersMatchAssignmentsAsync(ws);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_submitted_at_once_by_two_users_has_one_row_and_the_winners_history(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        var a = await MemberAsync(host, ws, "Contributor");
        var b = await MemberAsync(host, ws, "Contributor");
        TestUser[] submitters = [a, b];

        var outcomes = await AtOnceAsync(i => submitters[i % 2].Client.SubmitJobAsync(ws.Sub, ws.Group, ws.Name, "job-race", new SubmitJobRequest("exp", Parameters: new Dictionary<string, string> { ["by"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }), Ct));

        AssertNoServerError(host, outcomes);
        var winner = Assert.Single(outcomes, o => o.Succeeded);
        var job = Assert.Single(await ws.Owner.ListJobsAsync(ws.Sub, ws.Group, ws.Name, ct: Ct).ToListAsync(Ct));
        Assert.Equal(winner.Value!.SubmittedBy, job.SubmittedBy);
        var container = await host.WithDbAsync(db => db.Workspaces.Where(w => w.Name == ws.Name && w.SubscriptionId == ws.Sub).Select(w => w.StorageAccount).SingleAsync(Ct));
        var history = await JobHistoryDocument.ReadAsync(host.Factory.Services.GetRequiredService<IBlobStore>(), container, "job-race", Ct);
        Assert.NotNull(history);
        Assert.Equal(job.SubmittedBy, history.CreatedBy.UserObjectId);
        Assert.Equal(winner.Value.Parameters["by"], history.Parameters["by"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_data_asset_put_at_once_is_one_asset(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);
        await ws.Owner.UploadToStorageAsync(ws.Sub, ws.Group, ws.Name, "data/iris.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()), Ct);

        var outcomes = await AtOnceAsync(i => ws.Owner.PutAssetAsync(ws.Sub, ws.Group, ws.Name, "data", "iris", new PutAssetRequest($"take {i}", "data/iris.csv"), Ct));

        AssertNoServerError(host, outcomes);
        Assert.Contains(outcomes, o => o.Succeeded);
        var asset = Assert.Single(await ws.Owner.ListAssetsAsync(ws.Sub, ws.Group, ws.Name, "data", Ct).ToListAsync(Ct));
        Assert.Equal(1, asset.Version);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Model_versions_registered_at_once_each_get_their_own_version_and_files(DatabaseProvider provider)
    {
        var (host, ws) = await WorkspaceAsync(provider);

        var outcomes = await AtOnceAsync(i => ws.Owner.RegisterModelAsync(ws.Sub, ws.Group, ws.Name, "racer",
            new Dictionary<string, Stream> { [$"take-{i}.txt"] = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"take {i}")) }, $"take {i}", Ct));

        AssertNoServerError(host, outcomes);
        var registered = outcomes.Where(o => o.Succeeded).Select(o => o.Value!).ToList();
        Assert.NotEmpty(registered);
        var listed = await ws.Owner.ListModelVersionsAsync(ws.Sub, ws.Group, ws.Name, "racer", Ct).ToListAsync(Ct);
        Assert.Equal(registered.Select(r => r.Version).Order(), listed.Select(l => l.Version).Order());
        Assert.Equal(listed.Count, listed.Select(l => l.Version).Distinct().Count());
        foreach (var version in registered)
        {
            // Each version holds the files of the registration that got it, and only those.
            using var response = await ws.Owner.DownloadModelAsync(ws.Sub, ws.Group, ws.Name, "racer", version.Version, Ct);
            using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync(Ct)), ZipArchiveMode.Read);
            var entry = Assert.Single(zip.Entries);
            Assert.Equal(version.Description!.Replace(' ', '-') + ".txt", entry.Name);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_workspace_put_at_once_is_one_workspace_with_one_owner(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (sub, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(sub, "rg", "westeurope", Ct);
        var creator = await host.NewUserWithRoleAsync(op, Scenario.Scope(sub, "rg"), "Contributor", Ct);

        var outcomes = await AtOnceAsync(_ => creator.Client.CreateOrUpdateWorkspaceAsync(sub, "rg", "ws-race", new CreateWorkspaceRequest("westeurope"), Ct));

        AssertNoServerError(host, outcomes);
        Assert.Contains(outcomes, o => o.Succeeded);
        Assert.Single(await op.ListWorkspacesAsync(sub, "rg", Ct).ToListAsync(Ct));
        var ws = new WorkspaceSetup(sub, "rg", "ws-race", op);
        var owner = Assert.Single(await op.ListWorkspaceMembersAsync(sub, "rg", "ws-race", Ct));
        Assert.Equal((creator.ObjectId, "Owner"), (owner.PrincipalId, owner.Role));
        await AssertMembersMatchAssignmentsAsync(ws);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_resource_group_put_at_once_is_one_group(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (sub, op) = await host.NewSubscriptionAsync(Ct);

        var outcomes = await AtOnceAsync(_ => op.CreateOrUpdateResourceGroupAsync(sub, "rg-race", "westeurope", Ct));

        AssertNoServerError(host, outcomes);
        Assert.Contains(outcomes, o => o.Succeeded);
        Assert.Single(await op.ListResourceGroupsAsync(sub, Ct).ToListAsync(Ct), g => g.Name == "rg-race");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_lab_its_vm_and_its_disk_put_at_once_are_one_each(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (sub, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(sub, "labs", "northeurope", Ct);

        var labs = await AtOnceAsync(_ => op.CreateOrUpdateLabAsync(sub, "labs", "RaceLab", new CreateLabRequest("northeurope"), Ct));
        var vms = await AtOnceAsync(_ => op.CreateLabVirtualMachineAsync(sub, "labs", "RaceLab", "vm-race",
            new LabVirtualMachineCreateProperties("Standard_B2s", new GalleryImageReferenceContract("Canonical", "ubuntu-24_04-lts", "server", "Linux", "latest")), Ct));
        var disks = await AtOnceAsync(_ => op.CreateLabDiskAsync(sub, "labs", "RaceLab", "disk-race", new LabDiskCreateProperties(32), Ct));

        AssertNoServerError(host, labs);
        AssertNoServerError(host, vms);
        AssertNoServerError(host, disks);
        Assert.Single(await op.ListLabsAsync(sub, "labs", Ct).ToListAsync(Ct));
        Assert.Single(await op.ListLabVirtualMachinesAsync(sub, "labs", "RaceLab", includeDeleted: true, Ct).ToListAsync(Ct));
        Assert.Single(await op.ListLabDisksAsync(sub, "labs", "RaceLab", ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_role_assignment_put_at_once_is_one_assignment(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (sub, op) = await host.NewSubscriptionAsync(Ct);
        var person = await host.NewUserAsync(Ct);
        var scope = Scenario.Scope(sub);
        var id = Guid.NewGuid();

        // Half with one assignment ID, half with an ID each: the same principal, role and scope.
        var outcomes = await AtOnceAsync(i => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Reader", PrincipalId: person.ObjectId), i % 2 == 0 ? id : null, Ct));

        AssertNoServerError(host, outcomes);
        Assert.Single(outcomes, o => o.Succeeded);
        Assert.Single(await op.ListRoleAssignmentsAsync(scope, Ct), a => a.Properties.PrincipalId == person.ObjectId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_users_first_gallery_requests_at_once_make_one_profile(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var first = await host.NewUserAsync(Ct);
        var second = await host.NewUserAsync(Ct);

        var profiles = await AtOnceAsync(_ => first.Client.GetMyCatalogProfileAsync(Ct));
        var published = await AtOnceAsync(i => second.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", $"Race {i}"), Ct));

        // Looking makes no profile (issue 13: consent before anything becomes public), however many look at once.
        AssertNoServerError(host, profiles, HttpStatusCode.NotFound);
        AssertNoServerError(host, published);
        Assert.All(profiles, p => Assert.Equal(HttpStatusCode.NotFound, p.Status));
        Assert.All(published, p => Assert.True(p.Succeeded));
        Assert.Single(published.Select(p => p.Value!.Author.Id).Distinct());
        Assert.False(await host.WithDbAsync(db => db.GalleryAuthors.AnyAsync(a => a.UserId == first.ObjectId, Ct)));
        Assert.Equal(1, await host.WithDbAsync(db => db.GalleryAuthors.CountAsync(a => a.UserId == second.ObjectId, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Catalog_tokens_issued_and_revoked_at_once_leave_none_live(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);

        var issued = await AtOnceAsync(_ => author.Client.CreateCatalogTokenAsync(Ct));
        AssertNoServerError(host, issued);
        Assert.All(issued, t => Assert.True(t.Succeeded));
        Assert.Equal(AtOnce, issued.Select(t => t.Value!.Token).Distinct().Count());

        var revoked = await AtOnceAsync(async _ =>
        {
            await author.Client.RevokeCatalogTokensAsync(Ct);
            return true;
        });
        AssertNoServerError(host, revoked);
        foreach (var token in issued.Select(t => t.Value!.Token))
        {
            await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().GetCatalogEntityAsync(Guid.NewGuid(), token, Ct));
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_users_first_two_factor_setup_at_once_makes_one_key(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        using var http = host.Raw(user.Client.AccessToken);

        var outcomes = await AtOnceAsync(async _ =>
        {
            using var response = await http.PostAsJsonAsync("/identity/manage/2fa", new { }, Ct);
            return response.IsSuccessStatusCode
                ? (await response.Content.ReadFromJsonAsync<TwoFactor>(Ct))!.SharedKey
                : throw new LetheApiException(response.StatusCode, await response.Content.ReadAsStringAsync(Ct), null, null, null);
        });

        // The first setup changes the account's security stamp, which ends the session the others were sent with (401).
        AssertNoServerError(host, outcomes, HttpStatusCode.Unauthorized);
        Assert.Contains(outcomes, o => o.Succeeded);
        var again = host.Anonymous();
        await again.LoginAsync(user.Email, LetheHost.Password, Ct);
        using var fresh = host.Raw(again.AccessToken);
        using var response = await fresh.PostAsJsonAsync("/identity/manage/2fa", new { }, Ct);
        response.EnsureSuccessStatusCode();
        var key = (await response.Content.ReadFromJsonAsync<TwoFactor>(Ct))!.SharedKey;
        Assert.All(outcomes.Where(o => o.Succeeded), o => Assert.Equal(key, o.Value));
        Assert.Equal(1, await host.WithDbAsync(db => db.UserTokens.CountAsync(t => t.UserId == user.ObjectId && t.Name == "AuthenticatorKey", Ct)));
    }

    private sealed record TwoFactor(string SharedKey);

    // ---- the shape of every test: fire at once, then look at what is left ----

    private sealed record Outcome<T>(HttpStatusCode Status, T? Value)
    {
        public bool Succeeded => (int)Status is >= 200 and < 300;
    }

    /// Sends <see cref="AtOnce"/> requests that all start together (a barrier), each on a thread-pool thread of its own.
    private static async Task<IReadOnlyList<Outcome<T>>> AtOnceAsync<T>(Func<int, Task<T>> send)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, AtOnce).Select(i => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                return new Outcome<T>(HttpStatusCode.OK, await send(i));
            }
            catch (LetheApiException e)
            {
                return new Outcome<T>(e.StatusCode, default);
            }
        }, Ct)).ToList();
        start.SetResult();
        return await Task.WhenAll(requests);
    }

    /// Every request succeeded or lost with 409 (or one of <paramref name="alsoAllowed"/>): none answered 5xx. A failure
    /// names the server's unhandled exceptions (their types and messages: the test data holds no real person).
    private static void AssertNoServerError<T>(LetheHost host, IReadOnlyList<Outcome<T>> outcomes, params HttpStatusCode[] alsoAllowed)
    {
        var unexpected = outcomes.Where(o => !(o.Succeeded || o.Status == HttpStatusCode.Conflict || alsoAllowed.Contains(o.Status))).Select(o => (int)o.Status).ToList();
        var errors = unexpected.Count == 0 ? "" : string.Join("\n", host.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).SelectMany(e => (e.Exception ?? "").Split('\n').Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).Take(3)).Distinct());
        Assert.True(unexpected.Count == 0, $"answered {string.Join(", ", unexpected)}\n{errors}");
    }

    private sealed record WorkspaceSetup(Guid Sub, string Group, string Name, LetheClient Owner)
    {
        public string Scope => $"{Scenario.Scope(Sub, Group)}/providers/Microsoft.MachineLearningServices/workspaces/{Name}";
    }

    private async Task<(LetheHost Host, WorkspaceSetup Workspace)> WorkspaceAsync(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (sub, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(sub, "rg", "westeurope", Ct);
        await op.CreateOrUpdateWorkspaceAsync(sub, "rg", "ws-race", new CreateWorkspaceRequest("westeurope"), Ct);
        return (host, new WorkspaceSetup(sub, "rg", "ws-race", op));
    }

    private static async Task<TestUser> MemberAsync(LetheHost host, WorkspaceSetup ws, string role)
    {
        var user = await host.NewUserAsync(Ct);
        await ws.Owner.AddWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, new AddWorkspaceMemberRequest(role, PrincipalId: user.ObjectId), Ct);
        return user;
    }

    /// The role assignments held exactly at the workspace's scope by <paramref name="principal"/>.
    private static async Task<List<RoleAssignmentResource>> AssignmentsAtAsync(WorkspaceSetup ws, Guid principal)
        => (await ws.Owner.ListRoleAssignmentsAsync(ws.Scope, Ct))
            .Where(a => a.Properties.PrincipalId == principal && string.Equals(a.Properties.Scope, ws.Scope, StringComparison.OrdinalIgnoreCase)).ToList();

    /// The member list and the role assignments at the workspace's scope say the same: one assignment per member, with its role.
    private static async Task AssertMembersMatchAssignmentsAsync(WorkspaceSetup ws)
    {
        var members = (await ws.Owner.ListWorkspaceMembersAsync(ws.Sub, ws.Group, ws.Name, Ct)).Select(m => (m.PrincipalId, m.Role)).Order();
        var assignments = (await ws.Owner.ListRoleAssignmentsAsync(ws.Scope, Ct))
            .Where(a => string.Equals(a.Properties.Scope, ws.Scope, StringComparison.OrdinalIgnoreCase))
            .Select(a => (a.Properties.PrincipalId, a.Properties.RoleDefinitionName)).Order();
        Assert.Equal(members, assignments);
    }

    private static async Task RemoveIfMemberAsync(WorkspaceSetup ws, Guid principal)
    {
        if ((await ws.Owner.ListWorkspaceMembersAsync(ws.Sub, ws.Group, ws.Name, Ct)).Any(m => m.PrincipalId == principal))
        {
            await ws.Owner.RemoveWorkspaceMemberAsync(ws.Sub, ws.Group, ws.Name, principal, Ct);
        }
    }
}
