using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Server.Tests.Labs;
using Lethe.Server.Tests.Workspaces;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Concurrency;

/// Issue 12, item 2 (decision 0071): once a delete has reported success, nothing of what it deleted can
/// appear again, not even through a write that was already in flight. Each test holds a write open across
/// a delete (the request body is held by the test until the delete has answered), then completes it, and
/// looks for the deleted thing everywhere: the write's answer, GET and lists, the blob store, and a
/// resource recreated under the same name.
public sealed class DeleteVersusWriteTests(WorkspaceHosts hosts) : IClassFixture<WorkspaceHosts>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // More than one Azure block (4 MiB): the put has staged a block when the delete runs.
    private const int HeldHead = 5 << 20;

    public static TheoryData<DatabaseProvider, BlobProvider> FileSystem => new()
    {
        { DatabaseProvider.Sqlite, BlobProvider.FileSystem },
        { DatabaseProvider.Postgres, BlobProvider.FileSystem },
    };

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_job_delete_wins_over_an_artifact_upload_in_flight_and_a_new_job_of_that_ID_sees_nothing(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", new SubmitJobRequest("exp"), Ct);
        await op.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run-1", "outputs/early.txt", Text("early"), Ct);

        var kept = await PutAcrossAsync(s, container, "run-1", JobBlobs.Artifact("run-1", "outputs/late.bin"),
            () => op.DeleteJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct));

        Assert.False(kept);
        Assert.DoesNotContain(await s.BlobNamesAsync(container, Ct), n => n.Contains("dcid.run-1/", StringComparison.Ordinal));
        Assert.DoesNotContain(await s.DeletedBlobNamesAsync(container, Ct), n => n.Contains("dcid.run-1/", StringComparison.Ordinal));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct));

        // Anyone who submits a job of the same ID gets a job of its own, with none of the old one's artifacts.
        var other = await s.UserAsync("Contributor", Ct);
        await other.Client.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run-1", new SubmitJobRequest("exp"), Ct);
        Assert.Empty(await other.Client.ListArtifactsAsync(s.SubscriptionId, s.Group, s.Name, "run-1", Ct));
        Assert.Equal([JobBlobs.HistoryDocument("run-1")], (await s.BlobNamesAsync(container, Ct)).Where(n => n.Contains("dcid.run-1/", StringComparison.Ordinal)));
        using var late = await other.Client.DownloadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run-1", "outputs/late.bin", Ct)
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : new HttpResponseMessage(HttpStatusCode.NotFound), Ct, TaskContinuationOptions.None, TaskScheduler.Default);
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_workspace_soft_delete_wins_over_an_upload_in_flight_and_recovery_does_not_bring_it_back(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/early.csv", Text("a,b\n"), Ct);

        var kept = await PutAcrossAsync(s, container, null, "data/late.bin", () => op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));

        Assert.False(kept);
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.Equal(["data/early.csv"], await s.DeletedBlobNamesAsync(container, Ct));
        await op.RecoverWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        Assert.Equal(["data/early.csv"], (await op.ListStorageAsync(s.SubscriptionId, s.Group, s.Name, ct: Ct)).Select(b => b.Path));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_workspace_purge_wins_over_an_upload_in_flight(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/early.csv", Text("a,b\n"), Ct);

        var kept = await PutAcrossAsync(s, container, null, "data/late.bin", async () =>
        {
            var purged = await op.WaitForOperationAsync(await op.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct), pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);
            Assert.True(purged.Status == OperationStates.Succeeded, purged.Error?.Message);
        });

        Assert.False(kept);
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.Empty(await s.DeletedBlobNamesAsync(container, Ct));
        Assert.Empty(await op.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_resource_group_delete_wins_over_an_upload_in_flight_into_its_workspace(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/early.csv", Text("a,b\n"), Ct);

        var kept = await PutAcrossAsync(s, container, null, "data/late.bin", async () =>
        {
            var started = await op.SendAsync<OperationStatus>(HttpMethod.Delete, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}", null, Ct);
            var deleted = await op.WaitForOperationAsync(started.Name, pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);
            Assert.True(deleted.Status == OperationStates.Succeeded, deleted.Error?.Message);
        });

        Assert.False(kept);
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.Empty(await s.DeletedBlobNamesAsync(container, Ct));
        Assert.Equal(0, await s.Host.WithDbAsync(db => db.Workspaces.CountAsync(w => w.StorageAccount == container, Ct)));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_model_delete_wins_over_a_registration_in_flight_and_the_model_registered_again_has_only_its_own_files(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", new Dictionary<string, Stream> { ["old.txt"] = Text("old model") }, ct: Ct);

        using var held = new HeldStream(HeldHead);
        var register = op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", new Dictionary<string, Stream> { ["new.bin"] = held }, ct: Ct);
        await held.HeadConsumed.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Models, "clf", Ct);
        held.Release();

        // The registration ran after the delete: it is a model of its own (version 1), or refused; never 5xx.
        var outcome = await Outcome(register);
        Assert.True(outcome is HttpStatusCode.Created or HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"The registration answered {outcome}.");
        var names = (await s.BlobNamesAsync(container, Ct)).Concat(await s.DeletedBlobNamesAsync(container, Ct)).Where(n => n.StartsWith(ModelBlobs.Root, StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(names, n => n.EndsWith("/old.txt", StringComparison.Ordinal));
        var versions = outcome == HttpStatusCode.Created ? await op.ListModelVersionsAsync(s.SubscriptionId, s.Group, s.Name, "clf", Ct).ToListAsync(Ct) : [];
        Assert.Equal(outcome == HttpStatusCode.Created ? [1] : [], versions.Select(v => v.Version));
        // Each registration writes into a folder of its own (decision 0070): only the new file is left, in one folder.
        if (outcome == HttpStatusCode.Created)
        {
            var only = Assert.Single(names);
            Assert.StartsWith(ModelBlobs.Root + "clf/", only, StringComparison.Ordinal);
            Assert.EndsWith("/new.bin", only, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(names);
        }
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_data_asset_delete_wins_over_an_update_in_flight(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/d.csv", Text("a,b\n"), Ct);
        await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "ds", new PutAssetRequest("old", "data/d.csv", new Dictionary<string, string> { ["owner"] = "old" }), Ct);

        var path = $"{s.WorkspaceScope}/{AssetKinds.Data}/ds".TrimStart('/');
        var update = await HeldJson.StartAsync(s.Host, op, HttpMethod.Put, path, new PutAssetRequest("new", "data/d.csv"));
        await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "ds", Ct);
        using var response = await update.CompleteAsync();

        // A PUT is create-or-update: one that arrives after the delete makes a new asset, with nothing of the old one.
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.NotFound, $"The update answered {response.StatusCode}.");
        var assets = await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, Ct).ToListAsync(Ct);
        Assert.All(assets, a => Assert.Equal(("new", 0), (a.Description, a.Properties.Count)));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_lab_delete_wins_over_a_vm_create_in_flight_and_the_lab_made_again_is_empty(DatabaseProvider database, BlobProvider blobs)
    {
        var host = await hosts.GetAsync(database, blobs);
        var lab = await LabSetup.CreateAsync(host, Ct);
        await lab.CreateVmAsync(lab.User1.Client, "early-vm", Ct);

        var create = await HeldJson.StartAsync(host, lab.User1.Client, HttpMethod.Put, $"{lab.Resource.Id.TrimStart('/')}/virtualmachines/late-vm",
            new CreateLabVirtualMachineRequest(new LabVirtualMachineCreateProperties("Standard_B2s", LabSetup.Ubuntu)));
        await lab.Admin.DeleteLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        using var response = await create.CompleteAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var labId = lab.Resource.Properties.UniqueIdentifier;
        Assert.Equal(0, await host.WithDbAsync(db => db.LabVirtualMachines.CountAsync(v => v.LabId == labId, Ct)));
        await lab.Admin.CreateOrUpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, new CreateLabRequest("northeurope"), Ct);
        Assert.Empty(await lab.Admin.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, includeDeleted: true, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_vm_delete_wins_over_an_update_in_flight(DatabaseProvider database, BlobProvider blobs)
    {
        var host = await hosts.GetAsync(database, blobs);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct);

        var update = await HeldJson.StartAsync(host, lab.User1.Client, HttpMethod.Patch, $"{vm.Id.TrimStart('/')}",
            new UpdateLabVirtualMachineRequest(NotificationEmail: "late@example.test"));
        await lab.User1.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "vm-1", Ct);
        using var response = await update.CompleteAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var id = vm.Properties.UniqueIdentifier;
        var row = await host.WithDbAsync(db => db.LabVirtualMachines.AsNoTracking().SingleAsync(v => v.Id == id, Ct));
        Assert.NotNull(row.DeletedAt);
        Assert.NotEqual("late@example.test", row.NotificationEmail);
        Assert.Empty(await lab.User1.Client.ListLabVirtualMachinesAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_disk_delete_wins_over_an_attach_in_flight(DatabaseProvider database, BlobProvider blobs)
    {
        var host = await hosts.GetAsync(database, blobs);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "vm-1", Ct);
        var disk = await lab.User1.Client.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", new LabDiskCreateProperties(32), Ct);

        var attach = await HeldJson.StartAsync(host, lab.User1.Client, HttpMethod.Post, $"{disk.Id.TrimStart('/')}/attach", new AttachDiskRequest(vm.Id));
        await lab.User1.Client.DeleteLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "disk-1", Ct);
        using var response = await attach.CompleteAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var id = disk.Properties.UniqueIdentifier;
        Assert.Null(await host.WithDbAsync(db => db.LabDisks.AsNoTracking().Where(d => d.Id == id).Select(d => d.LeasedByVmId).SingleOrDefaultAsync(Ct)));
        Assert.Empty(await lab.User1.Client.ListLabDisksAsync(lab.SubscriptionId, lab.Group, lab.Lab, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(FileSystem))]
    public async Task A_gallery_unpublish_wins_over_a_change_in_flight(DatabaseProvider database, BlobProvider blobs)
    {
        var host = await hosts.GetAsync(database, blobs);
        var author = await host.NewUserAsync(Ct);
        var entity = await author.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Early name", "Early description"), Ct);

        var change = await HeldJson.StartAsync(host, author.Client, HttpMethod.Patch, $"catalog/entities/{entity.Id:D}",
            new UpdateEntityRequest(Name: "Late name", Description: "Late description"));
        await author.Client.UnpublishEntityAsync(entity.Id, Ct);
        using var response = await change.CompleteAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => author.Client.GetCatalogEntityAsync(entity.Id, ct: Ct));
        var tombstone = await host.WithDbAsync(db => db.GalleryEntities.AsNoTracking().SingleAsync(e => e.Id == entity.Id, Ct));
        Assert.Equal(("", ""), (tombstone.Name, tombstone.Description));
        Assert.NotNull(tombstone.UnpublishedAt);
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task The_orphan_sweep_removes_blobs_whose_owner_is_gone_and_keeps_the_others(DatabaseProvider database, BlobProvider blobs)
    {
        var settings = new Dictionary<string, string?> { ["Lethe:Blobs:OrphanGraceMinutes"] = "0" };
        if (blobs == BlobProvider.Azure)
        {
            settings["Lethe:Blobs:Provider"] = "Azure";
            settings["Lethe:Blobs:ConnectionString"] = TestEnvironment.Azurite;
            settings["Lethe:Blobs:ContainerPrefix"] = $"or{Guid.NewGuid():N}"[..14] + "-";
        }
        await using var host = await LetheHost.StartAsync(database, settings, Ct);
        var s = await WorkspaceScenario.CreateAsync(host, Ct);
        var container = await s.ContainerAsync(Ct);
        await s.Operator.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "kept", new SubmitJobRequest("exp"), Ct);
        await s.Operator.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "kept", "outputs/a.txt", Text("kept"), Ct);
        await s.Operator.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "data/kept.csv", Text("kept"), Ct);
        // What crashes leave behind: a job's folder without its job, a purged workspace's container, a deleted lab's export.
        var store = s.Blobs;
        await store.PutAsync(container, JobBlobs.Artifact("gone", "outputs/a.txt"), Text("orphan"), null, Ct);
        await store.PutAsync(container, JobBlobs.Artifact("gone-too", "logs/x.txt"), Text("orphan"), null, Ct);
        await store.SoftDeleteAsync(container, JobBlobs.Artifact("gone-too", "logs/x.txt"), Ct);
        await store.PutAsync("purged0123456789", "data/x.csv", Text("orphan"), null, Ct);
        var deletedLab = $"DevLab/{Guid.NewGuid():D}/";
        await store.PutAsync(ExportLabUsage.Container, deletedLab + "virtualmachines.csv", Text("orphan"), null, Ct);
        // A container no module claims is never touched.
        await store.PutAsync("unclaimed", "x.txt", Text("not ours"), null, Ct);

        var run = await host.RunSweepAsync(PurgeOrphanBlobs.JobKind, Ct);

        Assert.Equal(Jobs.JobState.Succeeded, run.State);
        string[] kept = [JobBlobs.Artifact("kept", "outputs/a.txt"), JobBlobs.HistoryDocument("kept"), "data/kept.csv"];
        Assert.Equal(kept.Order(StringComparer.Ordinal), (await s.BlobNamesAsync(container, Ct)).Order(StringComparer.Ordinal));
        Assert.Empty(await s.DeletedBlobNamesAsync(container, Ct));
        Assert.Empty(await s.BlobNamesAsync("purged0123456789", Ct));
        Assert.Empty(await store.ListAsync(ExportLabUsage.Container, deletedLab, Ct).ToListAsync(Ct));
        Assert.Equal(["x.txt"], await s.BlobNamesAsync("unclaimed", Ct));
    }

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    /// The upload endpoints' fenced put (<see cref="WorkspaceFence"/>), with the server's own database and blob
    /// store, whose content stream runs <paramref name="delete"/> through the API when the put has begun reading
    /// it: the put completes only after the delete has reported success. (The in-process test server reads a
    /// request body whole before it calls the handler, so an HTTP body held open never reaches the put.)
    /// True when the write kept its blob.
    private static async Task<bool> PutAcrossAsync(WorkspaceScenario s, string container, string? jobId, string name, Func<Task> delete)
    {
        await using var scope = s.Host.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var workspace = await db.Workspaces.AsNoTracking().SingleAsync(w => w.StorageAccount == container, Ct);
        var key = jobId?.ToLowerInvariant();
        var run = key is null ? null : await db.ExperimentRuns.AsNoTracking().SingleAsync(r => r.WorkspaceId == workspace.Id && r.JobIdKey == key, Ct);
        await using var content = new DeleteWhileReadStream(HeldHead, delete);
        return await WorkspaceFence.PutAsync(db, scope.ServiceProvider.GetRequiredService<IBlobStore>(), workspace, run, name, content, null, Ct);
    }

    private static async Task<HttpStatusCode> Outcome(Task call)
    {
        try
        {
            await call;
            return HttpStatusCode.Created;
        }
        catch (LetheApiException e)
        {
            return e.StatusCode;
        }
    }
}

/// Content whose reader, once it has read the head, waits for <paramref name="delete"/> to have answered before the
/// last byte: a write in flight across a delete.
internal sealed class DeleteWhileReadStream(int headLength, Func<Task> delete) : Stream
{
    private readonly HeldStream _held = new(headLength);
    private Task? _deleting;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = _held.ReadAsync(buffer, cancellationToken);
        if (_held.HeadConsumed.IsCompleted && _deleting is null)
        {
            _deleting = delete();
            await _deleting;
            _held.Release();
        }
        return await read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _held.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// A request body the test holds open: its head is read, then it waits for <see cref="Release"/>, then the
/// tail (one byte) follows. <see cref="HeadConsumed"/> is set once the head has been handed over entirely.
internal sealed class HeldStream(int headLength, byte[]? content = null) : Stream
{
    private readonly byte[] _content = content ?? CreateContent(headLength);
    private readonly int _head = content is null ? headLength : content.Length - 1;
    private readonly TaskCompletionSource _consumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    public Task HeadConsumed => _consumed.Task;

    public void Release() => _release.TrySetResult();

    private static byte[] CreateContent(int head)
    {
        var bytes = new byte[head + 1];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position == _head)
        {
            _consumed.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
        }
        var end = _position < _head ? _head : _content.Length;
        var count = Math.Min(buffer.Length, end - _position);
        _content.AsMemory(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// A JSON request whose last byte is held back: the server cannot bind the body, so the handler runs only
/// after <see cref="CompleteAsync"/>, i.e. after whatever the test does in between has answered.
internal sealed class HeldJson
{
    private readonly HeldStream _body;
    private readonly Task<HttpResponseMessage> _response;
    private readonly HttpClient _http;

    private HeldJson(HeldStream body, Task<HttpResponseMessage> response, HttpClient http)
    {
        _body = body;
        _response = response;
        _http = http;
    }

    public static async Task<HeldJson> StartAsync(LetheHost host, LetheClient client, HttpMethod method, string path, object body)
    {
        var http = host.Raw(client.AccessToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), LetheClient.Json);
        var held = new HeldStream(json.Length - 1, json);
        var content = new StreamContent(held);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(method, path) { Content = content };
        var response = http.SendAsync(request, TestContext.Current.CancellationToken);
        await held.HeadConsumed.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return new HeldJson(held, response, http);
    }

    public async Task<HttpResponseMessage> CompleteAsync()
    {
        _body.Release();
        try
        {
            return await _response;
        }
        finally
        {
            _http.Dispose();
            await _body.DisposeAsync();
        }
    }
}
