using System.IO.Compression;
using System.Text;
using Lethe.Blobs;
using Lethe.Workspaces;

namespace Lethe.Tests.Workspaces;

public sealed class WorkspaceRuleTests
{
    [Theory]
    [InlineData("run_42", true)]
    [InlineData("keen-river-7", true)]
    [InlineData("..", false)]
    [InlineData("../x", false)]
    [InlineData("a/b", false)]
    [InlineData("a.b", false)]
    [InlineData("a\\b", false)]
    [InlineData("", false)]
    [InlineData("-lead", false)]
    public void Job_ids_cannot_reach_outside_their_folder(string jobId, bool valid)
        => Assert.Equal(valid, WorkspaceNames.JobIdProblem(jobId) is null);

    [Theory]
    [InlineData("outputs/model.pkl", true)]
    [InlineData("logs/std_log.txt", true)]
    [InlineData("outputs/../history.json", false)]
    [InlineData("outputs/./x", false)]
    [InlineData("/outputs/x", false)]
    [InlineData("history.json", false)]
    [InlineData("outputs\\..\\x", false)]
    public void Artifact_paths_stay_under_outputs_or_logs(string path, bool valid)
        => Assert.Equal(valid, WorkspaceNames.ArtifactPathProblem(path) is null);

    [Theory]
    [InlineData("ws-1", true)]
    [InlineData("w", false)]
    [InlineData("bad name", false)]
    [InlineData("a234567890123456789012345678901234", false)]
    [InlineData("_lead", false)]
    public void Workspace_names_follow_azure_mls_rule(string name, bool valid)
        => Assert.Equal(valid, WorkspaceNames.WorkspaceNameProblem(name) is null);

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(14, true)]
    [InlineData(15, false)]
    public void Retention_is_1_to_14_days(int days, bool valid)
        => Assert.Equal(valid, SoftDeleteWorkspace.RetentionProblem(days) is null);

    [Fact]
    public void Companion_names_are_valid_azure_names_and_a_valid_blob_container()
    {
        var (storage, registry, insights, vault) = WorkspaceNames.CompanionNames("My_Workspace-2026-long-name");

        Assert.Null(BlobNames.ContainerError(storage));
        Assert.InRange(storage.Length, 3, 24);
        Assert.Matches("^[a-z0-9]+$", storage);
        Assert.Matches("^[a-z0-9]+$", registry);
        Assert.Matches("^[a-z0-9-]+$", insights);
        Assert.InRange(vault.Length, 3, 24);
        Assert.NotEqual(storage, WorkspaceNames.CompanionNames("My_Workspace-2026-long-name").Storage);
    }

    [Fact]
    public void Random_content_is_stored_and_text_is_deflated()
    {
        var random = new byte[81920];
        new Random(7).NextBytes(random);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("epoch 1 loss 0.42\n", 5000)));

        Assert.False(ArtifactArchive.Compresses(random));
        Assert.True(ArtifactArchive.Compresses(text));
        Assert.True(ArtifactArchive.Compresses(random.AsSpan(0, 100)));
    }

    [Fact]
    public void Purge_protection_holds_until_the_retention_ends()
    {
        var now = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        var w = new Workspace
        {
            ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "ws", NameKey = "ws", Location = "x", StorageAccount = "s", ContainerRegistry = "r",
            ApplicationInsights = "i", KeyVault = "k", PurgeProtection = true, DeletedAt = now, PurgeAfter = now.AddDays(3),
        };

        Assert.False(SoftDeleteWorkspace.CanPurgeNow(w, now.AddDays(2)));
        Assert.True(SoftDeleteWorkspace.CanPurgeNow(w, now.AddDays(3)));
        Assert.False(PurgeExpiredWorkspaces.IsDue(w, now.AddDays(2)));
        Assert.True(PurgeExpiredWorkspaces.IsDue(w, now.AddDays(3)));
        w.PurgeProtection = false;
        Assert.True(SoftDeleteWorkspace.CanPurgeNow(w, now));
    }

    [Fact]
    public async Task Download_all_writes_a_valid_zip_to_a_stream_that_cannot_seek_without_the_history_document()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = Path.Combine(Path.GetTempPath(), $"lethe-zip-{Guid.NewGuid():N}");
        var blobs = new FileSystemBlobStore(root, new BlobOptions(), TimeProvider.System);
        var big = new byte[500_000];
        Random.Shared.NextBytes(big);
        await blobs.PutAsync("wsc", JobBlobs.HistoryDocument("j1"), new MemoryStream("{}"u8.ToArray()), null, ct);
        await blobs.PutAsync("wsc", JobBlobs.Artifact("j1", "outputs/big.bin"), new MemoryStream(big), null, ct);
        await blobs.PutAsync("wsc", JobBlobs.Artifact("j1", "logs/a.txt"), new MemoryStream(Encoding.UTF8.GetBytes("hello")), null, ct);
        var output = new WriteOnlyStream();

        var entries = await ArtifactArchive.WriteJobAsync(blobs, "wsc", "j1", output, null, ct);

        Assert.Equal(2, entries);
        using var zip = new ZipArchive(new MemoryStream(output.Bytes.ToArray()), ZipArchiveMode.Read);
        Assert.Equal(["logs/a.txt", "outputs/big.bin"], zip.Entries.Select(e => e.FullName));
        var copy = new MemoryStream();
        await using (var s = await zip.GetEntry("outputs/big.bin")!.OpenAsync(ct))
        {
            await s.CopyToAsync(copy, ct);
        }
        Assert.Equal(big, copy.ToArray());
        Directory.Delete(root, recursive: true);
    }

    /// Like a response body: write-only, no seeking, no length, and no synchronous writes.
    private sealed class WriteOnlyStream : Stream
    {
        public MemoryStream Bytes { get; } = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new InvalidOperationException("Synchronous operations are disallowed.");
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous operations are disallowed.");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            => Bytes.WriteAsync(buffer, cancellationToken);
    }
}
