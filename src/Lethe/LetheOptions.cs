using System.ComponentModel.DataAnnotations;

namespace Lethe;

/// Where a deployment keeps its files: the SQLite database, the file-system blob store, keys.
public sealed class DataOptions
{
    public const string Section = "Lethe";

    /// The data folder; relative paths are taken from the working directory.
    [Required]
    public string DataDirectory { get; set; } = ".data";
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public sealed class DatabaseOptions
{
    public const string Section = "Lethe:Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// Empty for SQLite means "lethe.db in the data folder". Required for PostgreSQL.
    public string? ConnectionString { get; set; }

    /// Apply pending migrations at start. Always done for SQLite; for PostgreSQL production runs
    /// `lethe db migrate` explicitly and leaves this off.
    public bool MigrateOnStart { get; set; }
}
