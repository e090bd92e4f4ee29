using System.ComponentModel.DataAnnotations;
using Lethe.Blobs;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Tests.Blobs;

[Collection(nameof(BlobStoresInSeries))]
public sealed class FileSystemBlobStoreTests : BlobStoreContract
{
    private readonly string dataDirectory = Path.Join(Path.GetTempPath(), "lethe-tests", Guid.NewGuid().ToString("N"));

    private string Root => Path.Join(dataDirectory, FileSystemBlobs.FolderName);

    protected override IBlobStore CreateStore(BlobOptions options, TimeProvider time) => new FileSystemBlobStore(Root, options, time);

    public override ValueTask DisposeAsync()
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task The_registration_keeps_the_blobs_in_the_data_folder()
    {
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(Time)
            .AddLetheFileSystemBlobs(Options, dataDirectory)
            .BuildServiceProvider();
        var store = Assert.IsType<FileSystemBlobStore>(services.GetRequiredService<IBlobStore>());

        await store.PutAsync(Container, "a/b.txt", new MemoryStream([1]), null, Ct);

        Assert.Equal(Path.GetFullPath(Root), store.RootDirectory);
        Assert.True(File.Exists(FileSystemBlobStore.PathIn(store.FoldersOf(Container).Live, "a/b.txt")));
        Assert.StartsWith(Path.GetFullPath(dataDirectory), FileSystemBlobStore.PathIn(store.FoldersOf(Container).Live, "a/b.txt"), StringComparison.Ordinal);
        Assert.Same(Options, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BlobOptions>>().Value);
    }

    [Fact]
    public async Task A_put_larger_than_several_write_behind_windows_is_stored_byte_for_byte()
    {
        // 2.5 windows in reads of odd sizes: windows end inside a read, and the last one is partial.
        var content = new byte[(int)(WriteBehind.Window * 5 / 2) + 12_345];
        new Random(14).NextBytes(content);
        var store = CreateStore(Options, Time);

        await store.PutAsync(Container, "big.bin", new OddReads(content), "application/octet-stream", Ct);

        await using var read = await store.OpenReadAsync(Container, "big.bin", Ct);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy, Ct);
        Assert.Equal(content.Length, copy.Length);
        Assert.True(content.AsSpan().SequenceEqual(copy.GetBuffer().AsSpan(0, (int)copy.Length)));
        Assert.Empty(Directory.EnumerateFiles(((FileSystemBlobStore)store).FoldersOf(Container).Temporary));
    }

    /// A stream that returns at most 70,001 bytes per read.
    private sealed class OddReads(byte[] content) : MemoryStream(content, writable: false)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 70_001)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(buffer.Length, 70_001)], cancellationToken);
    }

    [Fact]
    public void Invalid_options_stop_the_registration_with_the_setting_named()
    {
        var options = new BlobOptions { SoftDeleteRetentionDays = -1 };

        var error = Assert.Throws<ValidationException>(() => new ServiceCollection().AddLetheFileSystemBlobs(options, dataDirectory));

        Assert.Contains("Lethe:Blobs:SoftDeleteRetentionDays", error.Message, StringComparison.Ordinal);
    }

    /// The writer name (process ID and start time) of a process that was killed: a writer that is gone.
    private static async Task<string> KilledWriterNameAsync()
    {
        using var writer = System.Diagnostics.Process.Start("sleep", "30");
        var name = FileSystemBlobStore.WriterName(writer.Id, writer.StartTime.ToUniversalTime().Ticks);
        writer.Kill();
        await writer.WaitForExitAsync(Ct);
        return name;
    }

    [Fact]
    public async Task A_put_killed_mid_write_leaves_a_temporary_file_that_the_sweep_removes_once_its_writer_is_gone()
    {
        // A writer process killed (SIGKILL) in the middle of a put: its temporary file stays behind.
        var dead = await KilledWriterNameAsync();
        await PutTextAsync("kept", "a live blob of this container");
        var folders = ((FileSystemBlobStore)Store).FoldersOf(Container);
        var debris = Path.Join(folders.Temporary, $"{dead}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(debris, "half an export", Ct);
        // A put of this process, still being written.
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var inProgress = Path.Join(folders.Temporary, $"{FileSystemBlobStore.WriterName(Environment.ProcessId, self.StartTime.ToUniversalTime().Ticks)}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(inProgress, "being written", Ct);
        // Both written just now, by the store's clock: only their writers tell them apart.
        File.SetLastWriteTimeUtc(debris, Time.GetUtcNow().UtcDateTime);
        File.SetLastWriteTimeUtc(inProgress, Time.GetUtcNow().UtcDateTime);

        await Store.PurgeExpiredAsync(Time.GetUtcNow(), Ct);

        Assert.False(File.Exists(debris), "The temporary file of a writer that is gone was kept.");
        Assert.True(File.Exists(inProgress), "The temporary file of a running writer was removed.");
        Assert.True(FileSystemBlobStore.WriterGone($"{dead}-x"));
        Assert.False(FileSystemBlobStore.WriterGone("0123456789abcdef0123456789abcdef"));
    }

    [Fact]
    public async Task An_erasure_deletes_the_work_files_of_writers_that_are_gone_and_the_scan_finds_the_person_in_their_bytes()
    {
        var dead = await KilledWriterNameAsync();
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(Time)
            .AddLetheFileSystemBlobs(Options, dataDirectory)
            .BuildServiceProvider();
        var store = (FileSystemBlobStore)services.GetRequiredService<IBlobStore>();
        await store.PutAsync(Container, "kept.csv", new MemoryStream([1]), null, Ct);
        var subject = Guid.NewGuid();
        var debris = Path.Join(store.FoldersOf(Container).Temporary, $"{dead}-{Guid.NewGuid():N}");
        // The key in upper case and across the scan's 64 KiB reads: the scan reads raw bytes, any case.
        await File.WriteAllTextAsync(debris, "LabUId,ResourceOwner\r\n" + new string('x', (1 << 16) - 40) + $",{subject.ToString("D").ToUpperInvariant()}\r\n", Ct);
        File.SetLastWriteTimeUtc(debris, Time.GetUtcNow().UtcDateTime);
        // Another person's debris: removed by the erasure too, but not this person's residue.
        var others = Path.Join(store.FoldersOf(Container).Temporary, $"{dead}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(others, $"LabUId,ResourceOwner\r\nx,{Guid.NewGuid():D}\r\n", Ct);
        File.SetLastWriteTimeUtc(others, Time.GetUtcNow().UtcDateTime);
        // The location is declared with the store, and its source is the one registered for it.
        Assert.Contains(services.GetServices<Lethe.Privacy.PersonalBlobLocation>(), l => l.Name == "{container}/tmp/");
        using var scope = services.CreateScope();
        var source = Assert.Single(services.GetServices<Lethe.Privacy.PersonalDataSourceFactory>().SelectMany(f => f.Create(scope.ServiceProvider)));
        Assert.Equal("{container}/tmp/", source.Location);
        var keys = new Lethe.Privacy.SubjectKeys { ObjectIds = new HashSet<Guid> { subject } };
        var context = new Lethe.Privacy.ErasureContext(Lethe.Privacy.Pseudonym.New(), Time.GetUtcNow());

        var preview = await source.EraseAsync(keys, context with { DryRun = true }, Ct);
        Assert.Equal((2L, Lethe.Privacy.ErasureOutcome.Deleted), (preview.Records, preview.Outcome));
        Assert.True(File.Exists(debris) && File.Exists(others), "A dry run removed a file.");
        Assert.Equal(1, (await source.ScanAsync(keys, context, Ct)).Records);
        Assert.Empty(await source.FindAsync(keys, Ct).ToListAsync(Ct));

        var erased = await source.EraseAsync(keys, context, Ct);

        Assert.Equal(2, erased.Records);
        Assert.False(File.Exists(debris) || File.Exists(others), "The work file of a killed writer survived the erasure.");
        Assert.Equal(0, (await source.ScanAsync(keys, context, Ct)).Records);
        Assert.NotNull(await store.GetPropertiesAsync(Container, "kept.csv", Ct));
    }

    [Fact]
    public async Task A_tombstone_left_behind_a_live_blob_by_a_crash_is_never_restored_and_is_swept()
    {
        // A put renames the new blob in, then removes the tombstone; this is a crash in between.
        await PutTextAsync("x", "old");
        await Store.SoftDeleteAsync(Container, "x", Ct);
        var folders = ((FileSystemBlobStore)Store).FoldersOf(Container);
        var tombstone = FileSystemBlobStore.PathIn(folders.Deleted, "x");
        var leftover = tombstone + ".kept";
        File.Copy(tombstone, leftover);
        await PutTextAsync("x", "new");
        File.Move(leftover, tombstone);

        Assert.Empty(await DeletedNamesAsync(null));
        Assert.False(await Store.UndeleteAsync(Container, "x", Ct));
        Assert.Equal("new", await ReadTextAsync("x"));

        Assert.Equal(0, await Store.PurgeExpiredAsync(Start, Ct));
        Assert.False(File.Exists(tombstone));
        Assert.Equal("new", await ReadTextAsync("x"));
    }

    [Fact]
    public async Task A_failed_put_leaves_no_temporary_file_and_abandoned_ones_are_swept()
    {
        var source = new GeneratedStream(1024 * 1024, seed: 3, atHalf: () => throw new IOException("broken"));
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(Container, "x", source, null, Ct));
        var folders = ((FileSystemBlobStore)Store).FoldersOf(Container);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folders.Temporary));

        // What a crash during a put leaves: a temporary file nobody will rename.
        var abandoned = Path.Join(folders.Temporary, "abandoned");
        await File.WriteAllBytesAsync(abandoned, [1, 2, 3], Ct);
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddDays(-2));
        var recent = Path.Join(folders.Temporary, "in-progress");
        await File.WriteAllBytesAsync(recent, [1], Ct);

        await Store.PurgeExpiredAsync(DateTimeOffset.UtcNow, Ct);

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(recent));
    }

    [Fact]
    public async Task Removing_blobs_leaves_no_empty_folders_behind()
    {
        await PutTextAsync("ws/run/1/log", "1");
        await PutTextAsync("ws/run/2/log", "2");
        var folders = ((FileSystemBlobStore)Store).FoldersOf(Container);

        await Store.SoftDeletePrefixAsync(Container, "ws/", Ct);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folders.Live));
        await Store.PurgePrefixAsync(Container, "ws/", Ct);

        Assert.Empty(Directory.EnumerateFileSystemEntries(folders.Deleted));
    }

    [Fact]
    public async Task Names_never_reach_outside_the_container_folder()
    {
        string[] names = ["..a", "a..b/..c", "=", "+", "...x/y", " /x", "%2e%2e/x"];
        foreach (var name in names)
        {
            await PutTextAsync(name, name);
        }

        var folder = ((FileSystemBlobStore)Store).FoldersOf(Container).Live + Path.DirectorySeparatorChar;
        Assert.All(names, name => Assert.StartsWith(folder, Path.GetFullPath(FileSystemBlobStore.PathIn(folder, name)), StringComparison.Ordinal));
        Assert.Equal(names.Order(StringComparer.Ordinal), await NamesAsync(null));
        Assert.Equal([Options.ContainerPrefix + Container], Directory.EnumerateDirectories(Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_health_check_fails_when_the_folder_cannot_be_written()
    {
        Directory.CreateDirectory(dataDirectory);
        var notAFolder = Path.Join(dataDirectory, "file");
        await File.WriteAllBytesAsync(notAFolder, [1], Ct);

        var store = new FileSystemBlobStore(notAFolder, Options, Time);

        await Assert.ThrowsAsync<IOException>(() => store.CheckHealthAsync(Ct));
    }
}
