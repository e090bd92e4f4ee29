using System.Buffers;
using System.Runtime.CompilerServices;

namespace Lethe.Blobs;

/// The file-system backend, the default: one folder per container under the root (in the data folder),
/// for a deployment where one process owns that folder.
///
/// Layout of a container's folder:
///   live/     the blobs, one file each (<see cref="FileSystemBlobFile"/>), at the path of its name
///   deleted/  the tombstones, at the same relative paths; a tombstone's file time is its deletion time
///   tmp/      puts being written, renamed into live/ once complete; each named after its writer
///             process, so that the sweep removes it as soon as that process is gone (killed mid-put)
/// Every change is a rename or a delete of one file, so a crash leaves each blob either before or after
/// the change. Soft delete stamps the deletion time on the live file and then renames it: a crash in
/// between leaves a live blob with a changed file time, which nothing reads. A put renames the new blob
/// in first and then removes the tombstone of that name, so a crash in between leaves a tombstone
/// behind a live blob; a live blob always wins over a tombstone, which the next sweep removes.
///
/// Azure's namespace is flat, so "a" and "a/b" can both be blobs, which a folder tree cannot hold as a
/// file "a" and a folder "a". So a blob's file name is its last segment after '=', and a folder keeps
/// its segment's name, escaped with '+' only when that name starts with '=' or '+'.
public sealed class FileSystemBlobStore : IBlobStore, IBlobWorkFiles
{
    private const char FileMarker = '=';
    private const char EscapeMarker = '+';
    private const int CopyBufferSize = 81920;

    // A put still being written is not older than this; older temporary files are the remains of a crash.
    private static readonly TimeSpan AbandonedTemporaryFileAge = TimeSpan.FromDays(1);

    // This process as the writer of temporary files: its ID and start time (an ID alone is reused,
    // e.g. by the next container of a restarted deployment).
    private static readonly string Writer = WriterName(Environment.ProcessId, StartTicks(Environment.ProcessId) ?? 0);

    private readonly string root;
    private readonly BlobOptions options;
    private readonly TimeProvider time;

    // Serialises the renames and deletes of one name within the process (a put's rename and tombstone
    // removal, soft delete, undelete, purge, expiry), so that, for example, the sweep cannot remove a
    // tombstone that a soft delete has just replaced. Striped: a lock per name would grow without bound.
    private readonly Lock[] locks = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public FileSystemBlobStore(string rootDirectory, BlobOptions options, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.ThrowIfInvalid();
        root = Path.GetFullPath(rootDirectory);
        this.options = options;
        this.time = time;
    }

    public string RootDirectory => root;

    public async Task PutAsync(string container, string name, Stream content, string? contentType, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        BlobNames.ValidateContentType(contentType);
        ArgumentNullException.ThrowIfNull(content);

        Directory.CreateDirectory(folders.Temporary);
        var temporary = Path.Join(folders.Temporary, $"{Writer}-{Guid.NewGuid():N}");
        var published = false;
        try
        {
            var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            });
            await using (file)
            {
                await file.WriteAsync(FileSystemBlobFile.Encode(contentType ?? BlobItem.DefaultContentType), ct);
                await CopyWithWriteBehindAsync(content, file, ct);
                await FileSystemBlobFile.WriteLastModifiedAsync(file, time.GetUtcNow(), ct);
                // On disk before the rename: otherwise a crash could publish a name whose content never got written.
                file.Flush(flushToDisk: true);
            }

            var live = PathIn(folders.Live, name);
            var tombstone = PathIn(folders.Deleted, name);
            lock (LockOf(folders, name))
            {
                published = Move(temporary, live, overwrite: true);
                if (!published)
                {
                    throw new IOException("The blob being written disappeared from the blob store's temporary folder.");
                }

                Delete(tombstone, folders.Deleted);
            }
        }
        finally
        {
            if (!published)
            {
                File.Delete(temporary);
            }
        }
    }

    /// The content into the temporary file, each <see cref="WriteBehind.Window"/> of it sent on to the disk
    /// as soon as it is written, so that the fsync before the rename has little left to wait for.
    private static async Task CopyWithWriteBehindAsync(Stream content, FileStream file, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            var flushedTo = file.Position;
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, CopyBufferSize), ct)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                if (file.Position - flushedTo >= WriteBehind.Window)
                {
                    WriteBehind.Start(file.SafeFileHandle, flushedTo, file.Position - flushedTo);
                    flushedTo = file.Position;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task<Stream> OpenReadAsync(string container, string name, CancellationToken ct)
        => OpenReadAsync(container, name, deleted: false, ct);

    public Task<Stream> OpenReadDeletedAsync(string container, string name, CancellationToken ct)
        => OpenReadAsync(container, name, deleted: true, ct);

    private async Task<Stream> OpenReadAsync(string container, string name, bool deleted, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        var file = OpenOrNull(PathIn(deleted ? folders.Deleted : folders.Live, name)) ?? throw new BlobNotFoundException(container, name);
        try
        {
            var header = await FileSystemBlobFile.ReadAsync(file, ct);
            return new FileSystemBlobContent(file, header.Length);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    public Task<BlobItem?> GetPropertiesAsync(string container, string name, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        return ReadItemAsync(container, name, PathIn(folders.Live, name), deleted: false, ct);
    }

    public IAsyncEnumerable<BlobItem> ListAsync(string container, string? prefix, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidatePrefix(prefix);
        return ListTreeAsync(container, folders, prefix, deleted: false, ct);
    }

    public IAsyncEnumerable<BlobItem> ListDeletedAsync(string container, string? prefix, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidatePrefix(prefix);
        return ListTreeAsync(container, folders, prefix, deleted: true, ct);
    }

    public Task<bool> SoftDeleteAsync(string container, string name, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(SoftDelete(folders, name));
    }

    public Task<int> SoftDeletePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        foreach (var (name, _) in Walk(folders.Live, prefix))
        {
            ct.ThrowIfCancellationRequested();
            count += SoftDelete(folders, name) ? 1 : 0;
        }

        return Task.FromResult(count);
    }

    public Task<bool> UndeleteAsync(string container, string name, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Undelete(folders, name));
    }

    public Task<int> UndeletePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        foreach (var (name, _) in Walk(folders.Deleted, prefix))
        {
            ct.ThrowIfCancellationRequested();
            count += Undelete(folders, name) ? 1 : 0;
        }

        return Task.FromResult(count);
    }

    public Task<bool> PurgeAsync(string container, string name, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidateName(name);
        ct.ThrowIfCancellationRequested();
        lock (LockOf(folders, name))
        {
            // Both, whatever the first finds: a crash may have left a tombstone behind a live blob.
            var live = Delete(PathIn(folders.Live, name), folders.Live);
            var tombstone = Delete(PathIn(folders.Deleted, name), folders.Deleted);
            return Task.FromResult(live || tombstone);
        }
    }

    public Task<int> PurgePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var folders = FoldersOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        foreach (var tree in (string[])[folders.Live, folders.Deleted])
        {
            foreach (var (name, path) in Walk(tree, prefix))
            {
                ct.ThrowIfCancellationRequested();
                lock (LockOf(folders, name))
                {
                    count += Delete(path, tree) ? 1 : 0;
                }
            }
        }

        return Task.FromResult(count);
    }

    public async IAsyncEnumerable<string> ListContainersAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await Task.CompletedTask;
        if (!Directory.Exists(root))
        {
            yield break;
        }

        var names = Directory.EnumerateDirectories(root)
            .Select(folder => BlobNames.LogicalContainer(options.ContainerPrefix, Path.GetFileName(folder)))
            .OfType<string>().Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            ct.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    public Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        var count = 0;
        foreach (var folders in Containers())
        {
            foreach (var (name, path) in Walk(folders.Deleted, null))
            {
                ct.ThrowIfCancellationRequested();
                lock (LockOf(folders, name))
                {
                    var deletedAt = File.GetLastWriteTimeUtc(path);
                    if (File.Exists(PathIn(folders.Live, name)))
                    {
                        // Left behind by a put that crashed before removing it: the live blob replaced it.
                        Delete(path, folders.Deleted);
                    }
                    else if (BlobSoftDelete.IsExpired(new DateTimeOffset(deletedAt, TimeSpan.Zero), options.SoftDeleteRetention, now)
                        && Delete(path, folders.Deleted))
                    {
                        count++;
                    }
                }
            }

            foreach (var file in AbandonedTemporaryFiles(folders, now))
            {
                file.Delete();
            }
        }

        return Task.FromResult(count);
    }

    public Task CheckHealthAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Directory.CreateDirectory(root);
        // Not a valid container name, so never taken for one.
        using var probe = new FileStream(
            Path.Join(root, $".health-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        probe.WriteByte(0);
        return Task.CompletedTask;
    }

    internal ContainerFolders FoldersOf(string container)
        => new(Path.Join(root, BlobNames.PhysicalContainer(options.ContainerPrefix, container)));

    /// The path of a blob's file in a tree (live/ or deleted/); the name must have been validated.
    internal static string PathIn(string tree, string name)
    {
        var segments = name.Split('/');
        var parts = new string[segments.Length + 1];
        parts[0] = tree;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            parts[i + 1] = FolderEntry(segments[i]);
        }

        parts[^1] = FileMarker + segments[^1];
        return Path.Join(parts);
    }

    private bool SoftDelete(ContainerFolders folders, string name)
    {
        var live = PathIn(folders.Live, name);
        lock (LockOf(folders, name))
        {
            try
            {
                File.SetLastWriteTimeUtc(live, time.GetUtcNow().UtcDateTime);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return false;
            }

            if (!Move(live, PathIn(folders.Deleted, name), overwrite: true))
            {
                return false;
            }

            RemoveEmptyFolders(Path.GetDirectoryName(live)!, folders.Live);
            return true;
        }
    }

    private bool Undelete(ContainerFolders folders, string name)
    {
        var live = PathIn(folders.Live, name);
        var tombstone = PathIn(folders.Deleted, name);
        lock (LockOf(folders, name))
        {
            if (File.Exists(live) || !Move(tombstone, live, overwrite: false))
            {
                return false;
            }

            RemoveEmptyFolders(Path.GetDirectoryName(tombstone)!, folders.Deleted);
            return true;
        }
    }

    private static async IAsyncEnumerable<BlobItem> ListTreeAsync(
        string container, ContainerFolders folders, string? prefix, bool deleted, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var (name, path) in Walk(deleted ? folders.Deleted : folders.Live, prefix))
        {
            ct.ThrowIfCancellationRequested();
            if (deleted && File.Exists(PathIn(folders.Live, name)))
            {
                // A tombstone behind a live blob was replaced by it (see the class comment).
                continue;
            }

            if (await ReadItemAsync(container, name, path, deleted, ct) is { } item)
            {
                yield return item;
            }
        }
    }

    private static async Task<BlobItem?> ReadItemAsync(string container, string name, string path, bool deleted, CancellationToken ct)
    {
        var file = OpenOrNull(path);
        if (file is null)
        {
            return null;
        }

        await using (file)
        {
            var header = await FileSystemBlobFile.ReadAsync(file, ct);
            DateTimeOffset? deletedAt = deleted ? new DateTimeOffset(File.GetLastWriteTimeUtc(file.SafeFileHandle), TimeSpan.Zero) : null;
            return new BlobItem(container, name, file.Length - header.Length, header.LastModified, header.ContentType, deletedAt);
        }
    }

    private static FileStream? OpenOrNull(string path)
    {
        try
        {
            // Delete and write sharing: a put or soft delete may rename over or away the file while it is read.
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = CopyBufferSize,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// The blobs of a tree whose names start with the prefix, ordered by name (ordinal), reading one folder
    /// at a time so that memory follows the tree's width, not its size. A folder's entries sort by their
    /// segment, with "/" appended for a folder: that is the order of the full names they lead to.
    private static IEnumerable<(string Name, string Path)> Walk(string tree, string? prefix)
    {
        var folder = tree;
        var namePrefix = "";
        var partial = prefix ?? "";
        var lastSlash = partial.LastIndexOf('/');
        if (lastSlash >= 0)
        {
            foreach (var segment in partial[..lastSlash].Split('/'))
            {
                folder = Path.Join(folder, FolderEntry(segment));
            }

            namePrefix = partial[..(lastSlash + 1)];
            partial = partial[(lastSlash + 1)..];
        }

        return WalkFolder(folder, namePrefix, partial);
    }

    private static IEnumerable<(string Name, string Path)> WalkFolder(string folder, string namePrefix, string partial)
    {
        var entries = new List<(string Key, string Segment, string Path, bool IsFolder)>();
        try
        {
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                // Links are not followed: nothing outside the root is ever read or removed through the store.
                if (entry.LinkTarget is not null)
                {
                    continue;
                }

                var isFolder = entry is DirectoryInfo;
                var segment = isFolder ? SegmentOfFolder(entry.Name) : SegmentOfFile(entry.Name);
                if (segment is not null && segment.StartsWith(partial, StringComparison.Ordinal) && BlobNames.IsValidSegment(segment))
                {
                    entries.Add((isFolder ? segment + "/" : segment, segment, entry.FullName, isFolder));
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Absent, or removed (emptied) by a concurrent operation: nothing to list.
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var entry in entries)
        {
            if (!entry.IsFolder)
            {
                yield return (namePrefix + entry.Segment, entry.Path);
                continue;
            }

            foreach (var inner in WalkFolder(entry.Path, namePrefix + entry.Segment + "/", ""))
            {
                yield return inner;
            }
        }
    }

    private static string FolderEntry(string segment)
        => segment[0] is FileMarker or EscapeMarker ? EscapeMarker + segment : segment;

    private static string? SegmentOfFile(string entry)
        => entry.Length > 1 && entry[0] == FileMarker ? entry[1..] : null;

    private static string? SegmentOfFolder(string entry) => entry[0] switch
    {
        FileMarker => null,
        EscapeMarker => entry.Length > 1 && entry[1] is FileMarker or EscapeMarker ? entry[1..] : null,
        _ => entry,
    };

    /// Renames a file, creating the destination's folder; false when the source does not exist. Retries when
    /// a concurrent operation removed the (empty) destination folder between its creation and the rename.
    private static bool Move(string source, string destination, bool overwrite)
    {
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            try
            {
                File.Move(source, destination, overwrite);
                return true;
            }
            catch (FileNotFoundException)
            {
                return false;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                if (!File.Exists(source))
                {
                    return false;
                }
            }
            catch (IOException) when (!overwrite && File.Exists(destination))
            {
                return false;
            }
        }
    }

    private static bool Delete(string path, string tree)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        RemoveEmptyFolders(Path.GetDirectoryName(path)!, tree);
        return true;
    }

    /// Removes the folders left empty by a rename or delete, up to the tree, so that purged names leave no
    /// trace in the folder structure.
    private static void RemoveEmptyFolders(string folder, string tree)
    {
        while (folder.Length > tree.Length && folder.StartsWith(tree, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    return;
                }

                Directory.Delete(folder);
            }
            catch (IOException)
            {
                // Filled again by a concurrent put, or removed by a concurrent cleanup: either way, done here.
                return;
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    /// The folders of every container of the store.
    private IEnumerable<ContainerFolders> Containers()
        => Directory.Exists(root)
            ? Directory.EnumerateDirectories(root)
                .Where(folder => BlobNames.LogicalContainer(options.ContainerPrefix, Path.GetFileName(folder)) is not null)
                .Select(folder => new ContainerFolders(folder))
            : [];

    /// The remains of puts that will never complete: their writer is gone, or they are older than a day.
    private static IEnumerable<FileInfo> AbandonedTemporaryFiles(ContainerFolders folders, DateTimeOffset now)
        => Directory.Exists(folders.Temporary)
            ? new DirectoryInfo(folders.Temporary).EnumerateFiles()
                .Where(file => now - new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero) > AbandonedTemporaryFileAge || WriterGone(file.Name))
            : [];

    /// The work files of puts whose writer is gone (or older than a day), in every container: removed, or with
    /// <paramref name="countOnly"/> only counted. The purge sweep removes them too; an erasure does it at once.
    public Task<int> AbandonedWorkFilesAsync(DateTimeOffset now, bool countOnly, CancellationToken ct)
    {
        var count = 0;
        foreach (var file in Containers().SelectMany(folders => AbandonedTemporaryFiles(folders, now)))
        {
            ct.ThrowIfCancellationRequested();
            if (!countOnly)
            {
                file.Delete();
            }
            count++;
        }
        return Task.FromResult(count);
    }

    /// How many of the abandoned work files (as <see cref="AbandonedWorkFilesAsync"/> finds them) hold any of
    /// <paramref name="needles"/>, compared without regard to ASCII case: a residue scan reads the raw bytes, as
    /// someone searching the disk would.
    public async Task<int> AbandonedWorkFilesHoldingAsync(DateTimeOffset now, IReadOnlyCollection<string> needles, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(needles);
        var patterns = needles.Where(n => n.Length > 0).Select(n => System.Text.Encoding.UTF8.GetBytes(n.ToLowerInvariant())).ToList();
        if (patterns.Count == 0)
        {
            return 0;
        }
        var overlap = patterns.Max(p => p.Length) - 1;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var count = 0;
            foreach (var file in Containers().SelectMany(folders => AbandonedTemporaryFiles(folders, now)))
            {
                if (await HoldsAnyAsync(file.FullName, patterns, overlap, buffer, ct))
                {
                    count++;
                }
            }
            return count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<bool> HoldsAnyAsync(string path, List<byte[]> patterns, int overlap, byte[] buffer, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        await using (stream)
        {
            // Each read keeps the last bytes of the one before, so that a key split between two reads is found.
            var kept = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(kept, buffer.Length - kept), ct)) > 0)
            {
                var length = kept + read;
                var window = buffer.AsSpan(0, length);
                for (var i = kept; i < length; i++)
                {
                    if (window[i] is >= (byte)'A' and <= (byte)'Z')
                    {
                        window[i] |= 0x20;
                    }
                }
                foreach (var pattern in patterns)
                {
                    if (window.IndexOf(pattern) >= 0)
                    {
                        return true;
                    }
                }
                kept = Math.Min(overlap, length);
                window[(length - kept)..].CopyTo(buffer);
            }
            return false;
        }
    }

    internal static string WriterName(int processId, long startTicks) => $"{processId}.{startTicks}";

    /// The decision for one temporary file: its writer (named in the file's name) no longer runs. A
    /// name without a writer (an older version's) is left to the age rule.
    internal static bool WriterGone(string fileName)
    {
        var writer = fileName.Split('-', 2)[0].Split('.');
        if (writer.Length != 2
            || !int.TryParse(writer[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(writer[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }
        // Start times are read back from the system with a clock tick's precision.
        return StartTicks(pid) is not { } started || Math.Abs(started - ticks) > TimeSpan.TicksPerSecond;
    }

    private static long? StartTicks(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Not running (or not visible to this process): gone, as far as its files go.
            return null;
        }
    }

    private Lock LockOf(ContainerFolders folders, string name)
        => locks[(int)((uint)HashCode.Combine(folders.Root, name) % (uint)locks.Length)];

    internal sealed record ContainerFolders(string Root)
    {
        public string Live { get; } = Path.Join(Root, "live");

        public string Deleted { get; } = Path.Join(Root, "deleted");

        public string Temporary { get; } = Path.Join(Root, "tmp");
    }
}
