using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Lethe.Blobs;

/// Starts the disk writes of a file being written while it is still being written (issue 14). A put is made
/// durable by one fsync before its rename; without this, a large put's pages all wait in the page cache
/// until that fsync (the kernel starts writing back only at gigabytes of dirty memory), and the put then
/// stalls for as long as the disk needs for the whole file. With it, each written window is on its way to
/// the disk while the next is produced, and the final fsync waits for the last window only. Linux only
/// (<c>sync_file_range</c>); elsewhere the final fsync does all the work, as before.
internal static partial class WriteBehind
{
    /// Bytes written between two write-behind starts.
    public const long Window = 8L << 20;

    // SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages, do not wait for them.
    private const uint SyncFileRangeWrite = 2;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// Starts writing back <paramref name="length"/> bytes from <paramref name="offset"/>. Advisory: an
    /// error changes nothing (the fsync before the rename is what makes the file durable).
    public static void Start(SafeFileHandle file, long offset, long length)
    {
        if (_unavailable)
        {
            return;
        }
        try
        {
            _ = SyncFileRange(file, offset, length, SyncFileRangeWrite);
        }
        catch (EntryPointNotFoundException)
        {
            _unavailable = true;
        }
        catch (DllNotFoundException)
        {
            _unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
