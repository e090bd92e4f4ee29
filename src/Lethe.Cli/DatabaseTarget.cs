using System.CommandLine;
using System.Data.Common;
using Lethe.Blobs;
using Lethe.Blobs.Azure;
using Lethe.Demo;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Cli;

/// --data, --database-provider and --connection-string: the commands that work on a database
/// directly (`db migrate`, `seed`) and `serve`, which hands them to the server as configuration.
internal sealed class DatabaseOptionSet
{
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The data folder; SQLite's lethe.db and the file-system blobs live there [default: $LETHE_DATA, else ./.data]",
        HelpName = "DIR",
    };

    public Option<DatabaseProvider?> Provider { get; } = new("--database-provider")
    {
        Description = "Sqlite (the embedded default) or Postgres [default: $Lethe__Database__Provider, else Sqlite]",
        HelpName = "PROVIDER",
    };

    public Option<string?> ConnectionString { get; } = new("--connection-string")
    {
        Description = "The database connection string; required for Postgres. Prefer $Lethe__Database__ConnectionString: a command line is visible to every user of the machine",
        HelpName = "CS",
    };

    public Command AddTo(Command command) => command.With(Data, Provider, ConnectionString);

    /// The data folder asked for, or null for the server's default: --data, else $LETHE_DATA.
    public string? DataDirectory(Invocation run)
        => run.Value(Data) is { Length: > 0 } data ? data : run.Terminal.Variable("LETHE_DATA") is { Length: > 0 } variable ? variable : null;
}

/// The database a command works on, resolved as the server resolves it (Lethe.Server's Storage):
/// the options, else the Lethe__ environment variables, else SQLite in the data folder.
internal sealed record DatabaseTarget(DatabaseProvider Provider, string ConnectionString, string DataDirectory)
{
    public static DatabaseTarget Resolve(Invocation run, DatabaseOptionSet options)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(options);
        var variable = run.Terminal.Variable;
        var provider = run.Value(options.Provider)
            ?? (variable("Lethe__Database__Provider") is { Length: > 0 } p
                ? Enum.TryParse<DatabaseProvider>(p, ignoreCase: true, out var parsed) ? parsed : throw CliException.Usage($"Lethe__Database__Provider is '{p}': it is Sqlite or Postgres.")
                : DatabaseProvider.Sqlite);
        var connectionString = run.Value(options.ConnectionString) is { Length: > 0 } cs ? cs : variable("Lethe__Database__ConnectionString");
        var data = Path.GetFullPath(options.DataDirectory(run) ?? (variable("Lethe__DataDirectory") is { Length: > 0 } d ? d : new DataOptions().DataDirectory));
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new(provider, connectionString, data);
        }
        if (provider == DatabaseProvider.Postgres)
        {
            throw CliException.Usage("PostgreSQL needs a connection string.", "Set Lethe__Database__ConnectionString, or pass --connection-string.");
        }
        Directory.CreateDirectory(data);
        return new(provider, $"Data Source={Path.Combine(data, "lethe.db")}", data);
    }

    /// The blob store the server would use (Lethe.Server's Storage): Azure Blob Storage when the Lethe__Blobs__
    /// variables say so, else the file system in the data folder.
    public static IBlobStore BlobStore(Invocation run, DatabaseTarget target)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(target);
        var variable = run.Terminal.Variable;
        var options = new BlobOptions
        {
            Provider = variable("Lethe__Blobs__Provider") is { Length: > 0 } p
                ? Enum.TryParse<BlobProvider>(p, ignoreCase: true, out var parsed) ? parsed : throw CliException.Usage($"Lethe__Blobs__Provider is '{p}': it is FileSystem or Azure.")
                : BlobProvider.FileSystem,
            ConnectionString = variable("Lethe__Blobs__ConnectionString"),
            ContainerPrefix = variable("Lethe__Blobs__ContainerPrefix") is { Length: > 0 } prefix ? prefix : null,
        };
        options.ThrowIfInvalid();
        return options.Provider == BlobProvider.Azure
            ? new AzureBlobStore(options.ConnectionString!, options, TimeProvider.System)
            : new FileSystemBlobStore(Path.Join(target.DataDirectory, FileSystemBlobs.FolderName), options, TimeProvider.System);
    }

    /// The provider's bulk path for `seed`: binary COPY on PostgreSQL; null for ScaleData's own INSERT statements.
    public IBulkCopy? BulkCopy => Provider == DatabaseProvider.Postgres ? PostgresStorage.BulkCopy : null;

    public LetheDb CreateContext()
    {
        var builder = new DbContextOptionsBuilder<LetheDb>();
        if (Provider == DatabaseProvider.Postgres)
        {
            builder.UseLethePostgres(ConnectionString);
        }
        else
        {
            builder.UseLetheSqlite(ConnectionString);
        }
        return new LetheDb(builder.Options);
    }

    /// Where the database is, without the password: "SQLite /srv/lethe/lethe.db", "PostgreSQL db.example:5432/lethe".
    public string Describe()
    {
        var parts = new DbConnectionStringBuilder { ConnectionString = ConnectionString };
        string? Get(string key) => parts.TryGetValue(key, out var value) ? value?.ToString() : null;
        return Provider == DatabaseProvider.Postgres
            ? $"PostgreSQL {Get("Host") ?? Get("Server") ?? "localhost"}:{Get("Port") ?? "5432"}/{Get("Database") ?? Get("Username") ?? ""}"
            : $"SQLite {Get("Data Source") ?? Get("DataSource") ?? Get("Filename") ?? ""}";
    }
}
