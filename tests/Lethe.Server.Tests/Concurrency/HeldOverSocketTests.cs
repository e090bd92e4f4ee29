using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Server.Tests.Labs;
using Lethe.Server.Tests.Workspaces;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Concurrency;

/// Issue 12, item 2 (decision 0071), with the write really in flight: the server runs on Kestrel and each write with a
/// JSON body is sent over a socket of its own, headers and all of the body but its last byte, and held there while
/// the server is reading it; the delete then runs to success; then the last byte goes. (DeleteVersusWriteTests runs on
/// the in-process test server, which hands a body over whole, so there such a write only ever arrives after the
/// delete.) The held write must answer a clear 404 or 409, or make a genuinely new thing, and nothing of the deleted
/// thing may come back: rows, role assignments, listings, the catalog.
public sealed class HeldOverSocketTests(KestrelHosts hosts) : IClassFixture<KestrelHosts>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_lab_update_held_across_the_lab_delete_makes_a_new_empty_lab_or_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct);
        var grant = await lab.Admin.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(lab.Resource.Id, "LabUser", lab.Stranger.ObjectId), ct: Ct);

        await using var update = await HeldRequest.StartAsync(host, lab.Admin.AccessToken, HttpMethod.Put, lab.Resource.Id,
            new CreateLabRequest("northeurope", new LabSettings(NotificationEmail: "late@example.test")));
        await lab.Admin.DeleteLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var (status, body) = await update.CompleteAsync();

        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.NotFound, $"The held update answered {status}: {body}");
        var old = lab.Resource.Properties.UniqueIdentifier;
        Assert.Equal(0, await host.WithDbAsync(db => db.LabVirtualMachines.CountAsync(v => v.LabId == old, Ct)));
        Assert.False(await host.WithDbAsync(db => db.Labs.AnyAsync(l => l.Id == old, Ct)));
        // The stranger's right at the deleted lab's scope is gone with it, whatever lab holds that name now.
        Assert.False(await host.WithDbAsync(db => db.RoleAssignments.AnyAsync(a => a.Id == Guid.Parse(grant.Name), Ct)), "The role assignment at the deleted lab's scope outlived the lab.");
        var now = await lab.Admin.CreateOrUpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new CreateLabRequest("northeurope"), Ct);
        Assert.NotEqual(old, now.Properties.UniqueIdentifier);
        Assert.Empty(await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct));
        Assert.Empty(await lab.Admin.ListLabUsageExportsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct));
        await AssertNoAccessAsync(lab.Stranger.Client.GetLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_vm_create_held_across_the_lab_delete_is_refused_and_the_lab_made_again_is_empty(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);

        await using var create = await HeldRequest.StartAsync(host, lab.User1.Client.AccessToken, HttpMethod.Put, $"{lab.Resource.Id}/virtualmachines/late-vm",
            new CreateLabVirtualMachineRequest(new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu)));
        await lab.Admin.DeleteLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var (status, body) = await create.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held VM create answered {status}: {body}");
        var old = lab.Resource.Properties.UniqueIdentifier;
        Assert.Equal(0, await host.WithDbAsync(db => db.LabVirtualMachines.CountAsync(v => v.LabId == old, Ct)));
        await lab.Admin.CreateOrUpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new CreateLabRequest("northeurope"), Ct);
        Assert.Empty(await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_role_assignment_held_across_the_lab_delete_grants_nothing_on_the_lab_made_again(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var id = Guid.NewGuid();

        await using var grant = await HeldRequest.StartAsync(host, lab.Admin.AccessToken, HttpMethod.Put, $"providers/Microsoft.Authorization/roleAssignments/{id:D}",
            new CreateRoleAssignmentRequest(lab.Resource.Id, "Owner", lab.Stranger.ObjectId));
        await lab.Admin.DeleteLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var (status, body) = await grant.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held role assignment answered {status}: {body}");
        Assert.False(await host.WithDbAsync(db => db.RoleAssignments.AnyAsync(a => a.Id == id || a.PrincipalId == lab.Stranger.ObjectId, Ct)));
        await lab.Admin.CreateOrUpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new CreateLabRequest("northeurope"), Ct);
        await AssertNoAccessAsync(lab.Stranger.Client.GetLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_vm_update_held_across_the_vm_delete_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct);

        await using var update = await HeldRequest.StartAsync(host, lab.User1.Client.AccessToken, HttpMethod.Patch, vm.Id, new UpdateLabVirtualMachineRequest(NotificationEmail: "late@example.test"));
        await lab.User1.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm-1", Ct);
        var (status, body) = await update.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held VM update answered {status}: {body}");
        var id = vm.Properties.UniqueIdentifier;
        var row = await host.WithDbAsync(db => db.LabVirtualMachines.AsNoTracking().SingleAsync(v => v.Id == id, Ct));
        Assert.NotNull(row.DeletedAt);
        Assert.Null(row.NotificationEmail);
        Assert.Empty(await lab.User1.Client.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_vm_create_of_the_same_name_held_across_the_vm_delete_makes_a_new_vm_or_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct, email: "old@example.test");
        // A right at the VM's own scope: it goes with the VM, and a VM made again under its name starts without it.
        var grant = await lab.Admin.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(vm.Id, "Reader", lab.Stranger.ObjectId), ct: Ct);

        await using var create = await HeldRequest.StartAsync(host, lab.User1.Client.AccessToken, HttpMethod.Put, vm.Id,
            new CreateLabVirtualMachineRequest(new LabVirtualMachineCreateProperties("Standard_D2s_v3", LabSetup.Ubuntu)));
        await lab.User1.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm-1", Ct);
        var (status, body) = await create.CompleteAsync();

        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"The held VM create answered {status}: {body}");
        var id = vm.Properties.UniqueIdentifier;
        var old = await host.WithDbAsync(db => db.LabVirtualMachines.AsNoTracking().SingleAsync(v => v.Id == id, Ct));
        Assert.NotNull(old.DeletedAt);
        Assert.Equal("Standard_B2s", old.PricingTier);
        var live = await lab.User1.Client.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        if (status == HttpStatusCode.Created)
        {
            var now = Assert.Single(live);
            Assert.NotEqual(id, now.Properties.UniqueIdentifier);
            Assert.Null(now.Properties.NotificationEmail);
        }
        else
        {
            Assert.Empty(live);
        }
        Assert.False(await host.WithDbAsync(db => db.RoleAssignments.AnyAsync(a => a.Id == Guid.Parse(grant.Name), Ct)), "The role assignment at the deleted VM's scope outlived the VM.");
        await AssertNoAccessAsync(lab.Stranger.Client.GetLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm-1", Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_disk_attach_held_across_the_disk_delete_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct);
        var disk = await lab.User1.Client.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", new LabDiskCreateProperties(32), Ct);

        await using var attach = await HeldRequest.StartAsync(host, lab.User1.Client.AccessToken, HttpMethod.Post, $"{disk.Id}/attach", new AttachDiskRequest(vm.Id));
        await lab.User1.Client.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", Ct);
        var (status, body) = await attach.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held attach answered {status}: {body}");
        var id = disk.Properties.UniqueIdentifier;
        Assert.Null(await host.WithDbAsync(db => db.LabDisks.AsNoTracking().Where(d => d.Id == id).Select(d => d.LeasedByVmId).SingleOrDefaultAsync(Ct)));
        Assert.Empty(await lab.User1.Client.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_disk_create_of_the_same_name_held_across_the_disk_delete_makes_a_new_disk_or_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var disk = await lab.User1.Client.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", new LabDiskCreateProperties(32), Ct);

        await using var create = await HeldRequest.StartAsync(host, lab.User1.Client.AccessToken, HttpMethod.Put, disk.Id, new CreateLabDiskRequest(new LabDiskCreateProperties(256)));
        await lab.User1.Client.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", Ct);
        var (status, body) = await create.CompleteAsync();

        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"The held disk create answered {status}: {body}");
        var id = disk.Properties.UniqueIdentifier;
        var old = await host.WithDbAsync(db => db.LabDisks.AsNoTracking().SingleAsync(d => d.Id == id, Ct));
        Assert.NotNull(old.DeletedAt);
        Assert.Equal(32, old.SizeGb);
        var live = await lab.User1.Client.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct);
        Assert.Equal(status == HttpStatusCode.Created ? 1 : 0, live.Count);
        Assert.All(live, d => Assert.NotEqual(id, d.Properties.UniqueIdentifier));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_gallery_change_held_across_the_unpublish_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var entity = await author.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Early name", "Early description"), Ct);

        await using var change = await HeldRequest.StartAsync(host, author.Client.AccessToken, HttpMethod.Patch, $"catalog/entities/{entity.Id:D}",
            new UpdateEntityRequest(Name: "Late name", Description: "Late description"));
        await author.Client.UnpublishEntityAsync(entity.Id, Ct);
        var (status, body) = await change.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held change answered {status}: {body}");
        await Assert.ThrowsAsync<LetheNotFoundException>(() => author.Client.GetCatalogEntityAsync(entity.Id, ct: Ct));
        var tombstone = await host.WithDbAsync(db => db.GalleryEntities.AsNoTracking().SingleAsync(e => e.Id == entity.Id, Ct));
        Assert.Equal(("", ""), (tombstone.Name, tombstone.Description));
        Assert.NotNull(tombstone.UnpublishedAt);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_data_asset_update_held_across_its_delete_makes_a_new_asset_or_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var s = await WorkspaceScenario.CreateAsync(host, Ct);
        var op = s.Operator;
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/d.csv", new MemoryStream("a,b\n"u8.ToArray()), Ct);
        await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "ds", new PutAssetRequest("old", "data/d.csv", new Dictionary<string, string> { ["owner"] = "old" }), Ct);

        await using var update = await HeldRequest.StartAsync(host, op.AccessToken, HttpMethod.Put, $"{s.WorkspaceScope}/{AssetKinds.Data}/ds", new PutAssetRequest("new", "data/d.csv"));
        await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "ds", Ct);
        var (status, body) = await update.CompleteAsync();

        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.NotFound, $"The held update answered {status}: {body}");
        var assets = await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, Ct).ToListAsync(Ct);
        Assert.Equal(status == HttpStatusCode.Created ? 1 : 0, assets.Count);
        Assert.All(assets, a => Assert.Equal(("new", 0), (a.Description, a.Properties.Count)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_member_add_held_across_the_workspace_delete_grants_nothing_even_after_recovery(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var s = await WorkspaceScenario.CreateAsync(host, Ct);
        var newcomer = await host.NewUserAsync(Ct);

        await using var add = await HeldRequest.StartAsync(host, s.Operator.AccessToken, HttpMethod.Post, $"{s.WorkspaceScope}/members", new AddWorkspaceMemberRequest("Owner", newcomer.ObjectId));
        await s.Operator.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        var (status, body) = await add.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held member add answered {status}: {body}");
        Assert.False(await host.WithDbAsync(db => db.RoleAssignments.AnyAsync(a => a.PrincipalId == newcomer.ObjectId, Ct)));
        await s.Operator.RecoverWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        Assert.DoesNotContain(await s.Operator.ListWorkspaceMembersAsync(s.SubscriptionId, s.Group, s.Name, Ct), m => m.PrincipalId == newcomer.ObjectId);
        await AssertNoAccessAsync(newcomer.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_submit_held_across_the_job_delete_makes_a_new_job_or_is_refused(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var s = await WorkspaceScenario.CreateAsync(host, Ct);
        var op = s.Operator;
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", new SubmitJobRequest("old-exp"), Ct);
        await op.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run-1", "outputs/old.txt", new MemoryStream("old"u8.ToArray()), Ct);

        await using var submit = await HeldRequest.StartAsync(host, op.AccessToken, HttpMethod.Put, $"{s.WorkspaceScope}/jobs/run-1", new SubmitJobRequest("new-exp"));
        await op.DeleteJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct);
        var (status, body) = await submit.CompleteAsync();

        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"The held submit answered {status}: {body}");
        if (status == HttpStatusCode.Created)
        {
            Assert.Equal("new-exp", (await op.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct)).ExperimentName);
            Assert.Empty(await op.ListArtifactsAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct));
        }
        else
        {
            await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct));
        }
        var container = await s.ContainerAsync(Ct);
        Assert.DoesNotContain(await s.BlobNamesAsync(container, Ct), n => n.EndsWith("/outputs/old.txt", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_role_assignment_held_across_the_resource_group_delete_grants_nothing_on_the_group_made_again(DatabaseProvider provider)
    {
        var host = await hosts.GetAsync(provider);
        var s = await WorkspaceScenario.CreateAsync(host, Ct);
        var newcomer = await host.NewUserAsync(Ct);
        var id = Guid.NewGuid();

        await using var grant = await HeldRequest.StartAsync(host, s.Operator.AccessToken, HttpMethod.Put, $"providers/Microsoft.Authorization/roleAssignments/{id:D}",
            new CreateRoleAssignmentRequest(s.Scope, "Owner", newcomer.ObjectId));
        var started = await s.Operator.SendAsync<OperationStatus>(HttpMethod.Delete, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}", null, Ct);
        var deleted = await s.Operator.WaitForOperationAsync(started.Name, pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);
        Assert.True(deleted.Status == OperationStates.Succeeded, deleted.Error?.Message);
        var (status, body) = await grant.CompleteAsync();

        Assert.True(status == HttpStatusCode.NotFound, $"The held role assignment answered {status}: {body}");
        Assert.False(await host.WithDbAsync(db => db.RoleAssignments.AnyAsync(a => a.Id == id || a.PrincipalId == newcomer.ObjectId, Ct)));
        await s.Operator.CreateOrUpdateResourceGroupAsync(s.SubscriptionId, s.Group, "westeurope", Ct);
        await AssertNoAccessAsync(newcomer.Client.SendAsync<ResourceGroupResource>(HttpMethod.Get, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}", null, Ct));
    }

    /// Refused (403, or 404 where existence is not disclosed).
    private static async Task AssertNoAccessAsync(Task call)
    {
        var e = await Assert.ThrowsAnyAsync<LetheApiException>(() => call);
        Assert.True(e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"Answered {e.StatusCode}.");
    }
}

/// One server per database, on Kestrel, with the file-system blob store.
public sealed class KestrelHosts : IAsyncDisposable
{
    private readonly ConcurrentDictionary<DatabaseProvider, Lazy<Task<LetheHost>>> _hosts = new();

    public Task<LetheHost> GetAsync(DatabaseProvider provider)
        => _hosts.GetOrAdd(provider, p => new Lazy<Task<LetheHost>>(() => LetheHost.StartOnKestrelAsync(p))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _hosts.Values)
        {
            var start = lazy.Value;
            await ((Task)start).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (start.IsCompletedSuccessfully)
            {
                await start.Result.DisposeAsync();
            }
        }
    }
}

/// A request with a JSON body written straight to a socket: the request line, the headers and the body but its last
/// byte go at once; <see cref="StartAsync"/> returns once the server is reading that body (<see cref="BodyReadProbe"/>),
/// and <see cref="CompleteAsync"/> sends the last byte and reads the answer.
internal sealed class HeldRequest : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _last;
    private readonly string _key;

    private HeldRequest(TcpClient tcp, byte[] last, string key)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _last = last;
        _key = key;
    }

    public static async Task<HeldRequest> StartAsync(LetheHost host, string? accessToken, HttpMethod method, string path, object body)
    {
        Uri server;
        using (var http = host.Factory.CreateClient())
        {
            server = http.BaseAddress!;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), LetheClient.Json);
        var key = Guid.NewGuid().ToString("N");
        var head = new StringBuilder()
            .Append(method.Method).Append(" /").Append(path.TrimStart('/')).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(json.Length).Append("\r\n")
            .Append(BodyReadProbe.Header).Append(": ").Append(key).Append("\r\n")
            .Append("Connection: close\r\n");
        if (accessToken is not null)
        {
            head.Append("Authorization: Bearer ").Append(accessToken).Append("\r\n");
        }
        head.Append("\r\n");
        var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
        var request = new HeldRequest(tcp, json[^1..], key);
        await request._stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), TestContext.Current.CancellationToken);
        await request._stream.WriteAsync(json.AsMemory(0, json.Length - 1), TestContext.Current.CancellationToken);
        await request._stream.FlushAsync(TestContext.Current.CancellationToken);
        var reading = BodyReadProbe.ReadingAsync(key);
        if (await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)) != reading)
        {
            // Answered without reading the body (no such route, refused before binding): then nothing was held.
            var (status, text) = await request.ReadAnswerAsync(TimeSpan.FromSeconds(5));
            await request.DisposeAsync();
            Assert.Fail($"The server did not read the body of {method} /{path.TrimStart('/')} within 30 s; it answered {status}: {text}");
        }
        return request;
    }

    /// Sends the last byte; the status of the answer and its text (the body as sent, chunked or not).
    public async Task<(HttpStatusCode Status, string Text)> CompleteAsync()
    {
        await _stream.WriteAsync(_last, TestContext.Current.CancellationToken);
        await _stream.FlushAsync(TestContext.Current.CancellationToken);
        return await ReadAnswerAsync(TimeSpan.FromSeconds(60));
    }

    private async Task<(HttpStatusCode Status, string Text)> ReadAnswerAsync(TimeSpan patience)
    {
        using var reader = new StreamReader(_stream, Encoding.UTF8, leaveOpen: true);
        var text = await reader.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(patience, TestContext.Current.CancellationToken);
        var status = text.Split(' ', 3);
        Assert.True(status.Length == 3 && status[0].StartsWith("HTTP/1.", StringComparison.Ordinal), $"Not an HTTP answer: {text}");
        var blank = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return ((HttpStatusCode)int.Parse(status[1], System.Globalization.CultureInfo.InvariantCulture), blank < 0 ? "" : text[(blank + 4)..]);
    }

    public async ValueTask DisposeAsync()
    {
        BodyReadProbe.Forget(_key);
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
