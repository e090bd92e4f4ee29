using System.Security.Cryptography;
using System.Text;
using Lethe.Blobs;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Blobs;

/// The behaviour every IBlobStore shares, run against each backend by a subclass (the file system in
/// Lethe.Tests, Azurite in Lethe.Blobs.Azure.Tests, which links this file).
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected const string Container = "blobs";
    protected static readonly DateTimeOffset Start = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Retention = TimeSpan.FromDays(14);

    private IBlobStore? store;

    protected FakeTimeProvider Time { get; } = new(Start);

    /// A prefix of its own per test: its containers are its alone, and so is what the retention sweep visits.
    protected BlobOptions Options { get; } = new()
    {
        ContainerPrefix = "t" + Guid.NewGuid().ToString("N")[..12] + "-",
        SoftDeleteRetentionDays = (int)Retention.TotalDays,
    };

    protected IBlobStore Store => store ??= CreateStore(Options, Time);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract IBlobStore CreateStore(BlobOptions options, TimeProvider time);

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public abstract ValueTask DisposeAsync();

    [Fact]
    public async Task Put_then_read_returns_the_content_and_its_properties()
    {
        const string name = "azureml/ExperimentRun/dcid.run-1/logs/driver.log";
        await PutTextAsync(name, "hello", "text/plain");

        Assert.Equal("hello", await ReadTextAsync(name));
        var item = await Store.GetPropertiesAsync(Container, name, Ct);
        Assert.NotNull(item);
        Assert.Equal(Container, item.Container);
        Assert.Equal(name, item.Name);
        Assert.Equal(5, item.Length);
        Assert.Equal("text/plain", item.ContentType);
        Assert.Null(item.DeletedAt);
        Assert.Equal([item], await Store.ListAsync(Container, null, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_blob_put_without_content_type_reports_the_default_one()
    {
        await Store.PutAsync(Container, "raw", new MemoryStream([1, 2, 3]), contentType: null, Ct);

        Assert.Equal(BlobItem.DefaultContentType, (await Store.GetPropertiesAsync(Container, "raw", Ct))?.ContentType);
    }

    [Fact]
    public async Task An_empty_blob_round_trips()
    {
        await PutTextAsync("empty", "");

        Assert.Equal(0, (await Store.GetPropertiesAsync(Container, "empty", Ct))?.Length);
        Assert.Equal("", await ReadTextAsync("empty"));
    }

    [Fact]
    public async Task Overwrite_replaces_the_content_and_the_content_type()
    {
        await PutTextAsync("doc", "first version", "text/plain");
        await PutTextAsync("doc", "{}", "application/json");

        Assert.Equal("{}", await ReadTextAsync("doc"));
        var item = await Store.GetPropertiesAsync(Container, "doc", Ct);
        Assert.Equal(("application/json", 2L), (item?.ContentType, item?.Length ?? -1));
        Assert.Single(await Store.ListAsync(Container, null, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task Listing_is_ordered_by_name_and_a_blob_and_a_folder_may_share_a_name()
    {
        // "a" and "a/b" both exist, as Azure's flat namespace allows; '=' and '+' are the file-system
        // backend's markers, so they must round-trip too.
        string[] names = ["b", "a/c", "a-b", "a", "a/b/c", "a.b", "a0", "=x", "+y/z", "++/=", "x/=y", "x/+y/z"];
        foreach (var name in names.Reverse())
        {
            await PutTextAsync(name, "content of " + name);
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), await NamesAsync(null));
        foreach (var name in names)
        {
            Assert.Equal("content of " + name, await ReadTextAsync(name));
        }
    }

    [Fact]
    public async Task Prefix_listing_returns_only_the_names_under_the_prefix()
    {
        foreach (var name in (string[])["ws1", "ws1/a", "ws1/b/c", "ws10/a", "ws2/a"])
        {
            await PutTextAsync(name, name);
        }

        Assert.Equal(["ws1/a", "ws1/b/c"], await NamesAsync("ws1/"));
        Assert.Equal(["ws1", "ws1/a", "ws1/b/c", "ws10/a"], await NamesAsync("ws1"));
        Assert.Equal(["ws1/b/c"], await NamesAsync("ws1/b"));
        Assert.Equal(["ws2/a"], await NamesAsync("ws2/a"));
        Assert.Empty(await NamesAsync("nothing/"));
        Assert.Equal(5, (await NamesAsync("")).Count);
    }

    [Fact]
    public async Task A_missing_blob_is_not_found_and_an_unknown_container_is_empty()
    {
        var error = await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync(Container, "secret-name", Ct));
        Assert.DoesNotContain("secret-name", error.Message, StringComparison.Ordinal);
        Assert.Equal("secret-name", error.Name);

        Assert.Null(await Store.GetPropertiesAsync(Container, "secret-name", Ct));
        Assert.False(await Store.SoftDeleteAsync(Container, "secret-name", Ct));
        Assert.False(await Store.UndeleteAsync(Container, "secret-name", Ct));
        Assert.False(await Store.PurgeAsync(Container, "secret-name", Ct));
        Assert.Empty(await Store.ListAsync("never-written", null, Ct).ToListAsync(Ct));
        Assert.Empty(await Store.ListDeletedAsync("never-written", null, Ct).ToListAsync(Ct));
        Assert.Equal(0, await Store.PurgePrefixAsync("never-written", "", Ct));
    }

    [Fact]
    public async Task A_soft_deleted_blob_is_hidden_from_reads_and_listed_as_deleted()
    {
        await PutTextAsync("ws/report.csv", "a,b", "text/csv");
        await PutTextAsync("ws/other", "x");
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.True(await Store.SoftDeleteAsync(Container, "ws/report.csv", Ct));

        Assert.Equal(["ws/other"], await NamesAsync(null));
        Assert.Null(await Store.GetPropertiesAsync(Container, "ws/report.csv", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync(Container, "ws/report.csv", Ct));
        var tombstone = Assert.Single(await Store.ListDeletedAsync(Container, null, Ct).ToListAsync(Ct));
        Assert.Equal(("ws/report.csv", 3L, "text/csv"), (tombstone.Name, tombstone.Length, tombstone.ContentType));
        Assert.Equal(Start.AddMinutes(5), tombstone.DeletedAt);
    }

    [Fact]
    public async Task Undelete_restores_the_content_and_the_properties()
    {
        await PutTextAsync("ws/report.csv", "a,b", "text/csv");
        var before = await Store.GetPropertiesAsync(Container, "ws/report.csv", Ct);
        Time.Advance(TimeSpan.FromDays(1));
        await Store.SoftDeleteAsync(Container, "ws/report.csv", Ct);
        Time.Advance(TimeSpan.FromDays(1));

        Assert.True(await Store.UndeleteAsync(Container, "ws/report.csv", Ct));

        Assert.Equal("a,b", await ReadTextAsync("ws/report.csv"));
        Assert.Equal(before, await Store.GetPropertiesAsync(Container, "ws/report.csv", Ct));
        Assert.Empty(await Store.ListDeletedAsync(Container, null, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task Soft_delete_and_undelete_report_whether_they_changed_anything()
    {
        await PutTextAsync("x", "x");

        Assert.False(await Store.UndeleteAsync(Container, "x", Ct));
        Assert.True(await Store.SoftDeleteAsync(Container, "x", Ct));
        Assert.False(await Store.SoftDeleteAsync(Container, "x", Ct));
        Assert.True(await Store.UndeleteAsync(Container, "x", Ct));
        Assert.False(await Store.UndeleteAsync(Container, "x", Ct));
        Assert.Equal("x", await ReadTextAsync("x"));
    }

    [Fact]
    public async Task A_put_over_a_tombstone_makes_the_new_content_live_and_drops_the_tombstone()
    {
        await PutTextAsync("x", "deleted content");
        await Store.SoftDeleteAsync(Container, "x", Ct);

        await PutTextAsync("x", "new content");

        Assert.Equal("new content", await ReadTextAsync("x"));
        Assert.Empty(await Store.ListDeletedAsync(Container, null, Ct).ToListAsync(Ct));
        Assert.False(await Store.UndeleteAsync(Container, "x", Ct));
        Assert.Equal("new content", await ReadTextAsync("x"));
    }

    [Fact]
    public async Task Purge_removes_a_blob_for_good_whether_live_or_soft_deleted()
    {
        await PutTextAsync("live", "1");
        await PutTextAsync("deleted", "2");
        await Store.SoftDeleteAsync(Container, "deleted", Ct);

        Assert.True(await Store.PurgeAsync(Container, "live", Ct));
        Assert.True(await Store.PurgeAsync(Container, "deleted", Ct));
        Assert.False(await Store.PurgeAsync(Container, "live", Ct));

        Assert.Empty(await Store.ListAsync(Container, null, Ct).ToListAsync(Ct));
        Assert.Empty(await Store.ListDeletedAsync(Container, null, Ct).ToListAsync(Ct));
        Assert.False(await Store.UndeleteAsync(Container, "deleted", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync(Container, "live", Ct));
    }

    [Fact]
    public async Task Purging_expired_tombstones_honours_the_retention()
    {
        await PutTextAsync("old", "1");
        await PutTextAsync("newer", "2");
        await PutTextAsync("kept", "3");
        await Store.PutAsync("other", "old-elsewhere", new MemoryStream([4]), null, Ct);
        await Store.SoftDeleteAsync(Container, "old", Ct);
        await Store.SoftDeleteAsync("other", "old-elsewhere", Ct);
        Time.Advance(TimeSpan.FromDays(1));
        await Store.SoftDeleteAsync(Container, "newer", Ct);

        Assert.Equal(0, await Store.PurgeExpiredAsync(Start + Retention - TimeSpan.FromSeconds(1), Ct));
        Assert.Equal(["newer", "old"], await DeletedNamesAsync(null));

        Assert.Equal(2, await Store.PurgeExpiredAsync(Start + Retention, Ct));
        Assert.Equal(["newer"], await DeletedNamesAsync(null));
        Assert.Empty(await Store.ListDeletedAsync("other", null, Ct).ToListAsync(Ct));
        Assert.False(await Store.UndeleteAsync(Container, "old", Ct));

        Assert.Equal(1, await Store.PurgeExpiredAsync(Start + Retention + TimeSpan.FromDays(1), Ct));
        Assert.Empty(await DeletedNamesAsync(null));
        Assert.Equal(["kept"], await NamesAsync(null));
        Assert.Equal("3", await ReadTextAsync("kept"));
    }

    [Fact]
    public async Task Prefix_soft_delete_and_undelete_affect_only_the_prefix()
    {
        foreach (var name in (string[])["ws1/a", "ws1/b/c", "ws10/a", "ws2/a"])
        {
            await PutTextAsync(name, name);
        }

        Assert.Equal(2, await Store.SoftDeletePrefixAsync(Container, "ws1/", Ct));
        Assert.Equal(["ws10/a", "ws2/a"], await NamesAsync(null));
        Assert.Equal(["ws1/a", "ws1/b/c"], await DeletedNamesAsync(null));
        Assert.Equal(0, await Store.SoftDeletePrefixAsync(Container, "ws1/", Ct));

        Assert.Equal(2, await Store.UndeletePrefixAsync(Container, "ws1/", Ct));
        Assert.Equal(["ws1/a", "ws1/b/c", "ws10/a", "ws2/a"], await NamesAsync(null));
        Assert.Empty(await DeletedNamesAsync(null));
        Assert.Equal("ws1/b/c", await ReadTextAsync("ws1/b/c"));
        Assert.Equal(0, await Store.UndeletePrefixAsync(Container, "ws1/", Ct));
    }

    [Fact]
    public async Task Prefix_purge_removes_live_and_soft_deleted_blobs_under_the_prefix()
    {
        foreach (var name in (string[])["ws1/live", "ws1/deleted", "ws1/sub/deleted", "ws2/live", "ws2/deleted"])
        {
            await PutTextAsync(name, name);
        }

        await Store.SoftDeleteAsync(Container, "ws1/deleted", Ct);
        await Store.SoftDeleteAsync(Container, "ws1/sub/deleted", Ct);
        await Store.SoftDeleteAsync(Container, "ws2/deleted", Ct);

        Assert.Equal(3, await Store.PurgePrefixAsync(Container, "ws1/", Ct));

        Assert.Equal(["ws2/live"], await NamesAsync(null));
        Assert.Equal(["ws2/deleted"], await DeletedNamesAsync(null));
        Assert.Equal(0, await Store.UndeletePrefixAsync(Container, "ws1/", Ct));
        Assert.Equal(0, await Store.PurgePrefixAsync(Container, "ws1/", Ct));
    }

    public static TheoryData<string, string> InvalidNames => new()
    {
        { "../x", "must not contain '..' segments" },
        { "a/../../etc/passwd", "must not contain '..' segments" },
        { "/abs", "must not start with '/'" },
        { "a//b", "must not contain empty segments" },
        { "a/", "must not contain empty segments" },
        { "a/./b", "must not contain '.' segments" },
        { "a\\b", "must not contain '\\'" },
        { "..\\x", "must not contain '\\'" },
        { "C:/windows", "drive letter" },
        { "a\u0000b", "control characters" },
        { "tab\there", "control characters" },
        { "ends-with-dot./x", "must not end with '.'" },
        { "", "must not be empty" },
        { new string('a', 1025), "at most 1024 characters" },
        { new string('a', 255), "at most 254 bytes" },
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Invalid_names_are_rejected_with_a_clear_message_and_nothing_is_written(string name, string message)
    {
        var error = await Assert.ThrowsAsync<BlobNameException>(
            () => Store.PutAsync(Container, name, new MemoryStream([1]), "text/plain", Ct));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Blob name", error.Message, StringComparison.Ordinal);
        if (name.Length > 2)
        {
            Assert.DoesNotContain(name, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await Store.ListAsync(Container, null, Ct).ToListAsync(Ct));
        Assert.Empty(await Store.ListDeletedAsync(Container, null, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task The_longest_valid_name_is_accepted()
    {
        var name = string.Join('/', Enumerable.Repeat(new string('n', 254), 4)) + "/" + new string('z', 4);
        Assert.Equal(1024, name.Length);

        await PutTextAsync(name, "deep");

        Assert.Equal("deep", await ReadTextAsync(name));
        Assert.Equal([name], await NamesAsync(null));
    }

    [Theory]
    [InlineData("Upper", "lower-case letters, digits and hyphens")]
    [InlineData("under_score", "lower-case letters, digits and hyphens")]
    [InlineData("ab", "3 to 63 characters")]
    [InlineData("-leading", "must start with a letter or a digit")]
    [InlineData("trailing-", "must not end with a hyphen")]
    [InlineData("double--hyphen", "consecutive hyphens")]
    [InlineData("../x", "lower-case letters, digits and hyphens")]
    public async Task Invalid_container_names_are_rejected_with_a_clear_message(string container, string message)
    {
        var error = await Assert.ThrowsAsync<BlobNameException>(
            () => Store.PutAsync(container, "x", new MemoryStream([1]), null, Ct));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Container name", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BlobNameException>(() => Store.ListAsync(container, null, Ct).ToListAsync(Ct).AsTask());
    }

    [Fact]
    public async Task Every_operation_rejects_invalid_names()
    {
        await Assert.ThrowsAsync<BlobNameException>(() => Store.OpenReadAsync(Container, "../x", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.GetPropertiesAsync(Container, "/abs", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.SoftDeleteAsync(Container, "a//b", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.UndeleteAsync(Container, "a/./b", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.PurgeAsync(Container, "a\\b", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.ListAsync(Container, "../", Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<BlobNameException>(() => Store.ListDeletedAsync(Container, "/x", Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<BlobNameException>(() => Store.SoftDeletePrefixAsync(Container, "a//", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.UndeletePrefixAsync(Container, "../x", Ct));
        await Assert.ThrowsAsync<BlobNameException>(() => Store.PurgePrefixAsync(Container, "../x", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(Container, "x", new MemoryStream(), "text/plain\r\nX-Evil: 1", Ct));
        Assert.Empty(await Store.ListAsync(Container, null, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_large_blob_is_streamed_in_and_out_without_being_buffered()
    {
        const long size = 50L * 1024 * 1024;
        var expected = await HashAsync(new GeneratedStream(size, seed: 7));

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await Store.PutAsync(Container, "big.bin", new GeneratedStream(size, seed: 7), "application/octet-stream", Ct);
        var putAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        byte[] actual;
        await using (var content = await Store.OpenReadAsync(Container, "big.bin", Ct))
        {
            actual = await HashAsync(content);
        }

        var readAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        TestContext.Current.TestOutputHelper?.WriteLine($"Allocated: put {putAllocated} bytes, read {readAllocated} bytes.");
        Assert.Equal(expected, actual);
        Assert.Equal(size, (await Store.GetPropertiesAsync(Container, "big.bin", Ct))?.Length);
        // Holding the blob in memory would allocate at least its size; streaming allocates a few buffers.
        Assert.True(putAllocated < size / 3, $"The put allocated {putAllocated} bytes for a {size}-byte blob.");
        Assert.True(readAllocated < size / 3, $"The read allocated {readAllocated} bytes for a {size}-byte blob.");
    }

    [Fact]
    public async Task Readers_see_the_previous_blob_until_a_put_completes()
    {
        const long size = 9L * 1024 * 1024;
        await PutTextAsync("doc", "old");
        string? seenDuringPut = null;
        var source = new GeneratedStream(size, seed: 1, atHalf: async () => seenDuringPut = await ReadTextAsync("doc"));

        await Store.PutAsync(Container, "doc", source, null, Ct);

        Assert.Equal("old", seenDuringPut);
        Assert.Equal(size, (await Store.GetPropertiesAsync(Container, "doc", Ct))?.Length);
    }

    [Fact]
    public async Task A_failed_put_leaves_the_previous_blob_as_it_was()
    {
        await PutTextAsync("doc", "old");
        var source = new GeneratedStream(6L * 1024 * 1024, seed: 1, atHalf: () => throw new IOException("The upload's source broke."));

        await Assert.ThrowsAnyAsync<Exception>(() => Store.PutAsync(Container, "doc", source, null, Ct));

        Assert.Equal("old", await ReadTextAsync("doc"));
        Assert.Equal(["doc"], await NamesAsync(null));
    }

    [Fact]
    public async Task A_cancelled_put_writes_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Store.PutAsync(Container, "x", new MemoryStream([1]), null, cancelled.Token));

        Assert.Empty(await NamesAsync(null));
    }

    [Fact]
    public async Task The_health_check_passes_when_the_store_is_reachable()
    {
        await Store.CheckHealthAsync(Ct);
    }

    protected async Task PutTextAsync(string name, string text, string? contentType = "text/plain")
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text));
        await Store.PutAsync(Container, name, content, contentType, Ct);
    }

    protected async Task<string> ReadTextAsync(string name)
    {
        await using var content = await Store.OpenReadAsync(Container, name, Ct);
        using var reader = new StreamReader(content, Encoding.UTF8);
        return await reader.ReadToEndAsync(Ct);
    }

    protected async Task<List<string>> NamesAsync(string? prefix)
        => await Store.ListAsync(Container, prefix, Ct).Select(item => item.Name).ToListAsync(Ct);

    protected async Task<List<string>> DeletedNamesAsync(string? prefix)
        => await Store.ListDeletedAsync(Container, prefix, Ct).Select(item => item.Name).ToListAsync(Ct);

    private static async Task<byte[]> HashAsync(Stream content)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return hash.GetHashAndReset();
    }

    /// A read-only, non-seekable stream of generated bytes, as a network upload would be: the only way to
    /// know its content is to read it, and it never exists in memory as a whole.
    protected sealed class GeneratedStream(long length, int seed, Func<Task>? atHalf = null) : Stream
    {
        private long position;
        private uint state = (uint)seed * 2654435761u + 1;
        private Func<Task>? atHalf = atHalf;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (atHalf is not null && position >= length / 2)
            {
                var callback = atHalf;
                atHalf = null;
                callback().GetAwaiter().GetResult();
            }

            var count = (int)Math.Min(buffer.Length, length - position);
            for (var i = 0; i < count; i++)
            {
                // xorshift32: cheap, deterministic, incompressible enough.
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                buffer[i] = (byte)state;
            }

            position += count;
            return count;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (atHalf is not null && position >= length / 2)
            {
                var callback = atHalf;
                atHalf = null;
                await callback();
            }

            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// The streaming test measures allocations, which only means something when no other test runs meanwhile.
[CollectionDefinition(nameof(BlobStoresInSeries), DisableParallelization = true)]
public sealed class BlobStoresInSeries;
