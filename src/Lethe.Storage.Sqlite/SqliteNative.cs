using System.Runtime.InteropServices;

namespace Lethe.Storage.Sqlite;

/// The few SQLite calls of the usage export's row loop, bound straight to the e_sqlite3 library that
/// Microsoft.Data.Sqlite (SQLitePCLRaw) has loaded, on the statement's native pointer (issue 14). SQLitePCLRaw's
/// calls marshal a SafeHandle (a reference count taken and released) and pass a GC transition on every call; a
/// million-row export makes tens of millions of column calls. The column accessors only read a value SQLite
/// already holds (formatting a number as text at most): they neither block nor call back, so they run without
/// the GC transition. The step runs the query (and its sort), so it keeps it.
internal static unsafe partial class SqliteNative
{
    private const string Library = "e_sqlite3";

    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    internal static partial int Step(nint statement);

    /// The column's value as UTF-8 text in SQLite's memory, valid until the next step; null for SQL NULL.
    [LibraryImport(Library, EntryPoint = "sqlite3_column_text")]
    [SuppressGCTransition]
    internal static partial byte* ColumnText(nint statement, int column);

    /// The length in bytes of the text <see cref="ColumnText"/> returned (called after it, as SQLite asks).
    [LibraryImport(Library, EntryPoint = "sqlite3_column_bytes")]
    [SuppressGCTransition]
    internal static partial int ColumnBytes(nint statement, int column);
}
