using System.Text.Json;

namespace Lethe.Cli;

/// What `lethe login` keeps: the server and the tokens it issued. Never the password, never the email.
internal sealed record Credentials(Uri Server, string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt, string? CatalogToken = null, DateTimeOffset? CatalogTokenExpiresAt = null)
{
    /// A Catalog API token with at least this long left is reused rather than a new one minted per command.
    public static readonly TimeSpan CatalogTokenMargin = TimeSpan.FromMinutes(5);

    public string? LiveCatalogToken(TimeProvider clock) => CatalogToken is not null && CatalogTokenExpiresAt > clock.GetUtcNow() + CatalogTokenMargin ? CatalogToken : null;

    // Refresh a little early, so that a token does not expire between the check and the request.
    public bool IsExpired(TimeProvider clock) => clock.GetUtcNow() >= ExpiresAt - TimeSpan.FromSeconds(30);
}

/// The credentials file: $LETHE_CONFIG_DIR/credentials.json, else $XDG_CONFIG_HOME/lethe/, else
/// ~/.config/lethe/. Readable by its owner only (mode 600), like ~/.ssh keys and ~/.docker/config.json.
internal sealed class CredentialStore(string directory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Path { get; } = System.IO.Path.Combine(directory, "credentials.json");

    public static CredentialStore For(Terminal terminal)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        if (terminal.Variable("LETHE_CONFIG_DIR") is { Length: > 0 } configured)
        {
            return new(configured);
        }
        if (terminal.Variable("XDG_CONFIG_HOME") is { Length: > 0 } xdg)
        {
            return new(System.IO.Path.Combine(xdg, "lethe"));
        }
        var home = terminal.Variable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new(System.IO.Path.Combine(home, ".config", "lethe"));
    }

    public async Task<Credentials?> LoadAsync(CancellationToken ct)
    {
        if (!File.Exists(Path))
        {
            return null;
        }
        try
        {
            await using var stream = File.OpenRead(Path);
            return await JsonSerializer.DeserializeAsync<Credentials>(stream, Json, ct);
        }
        catch (JsonException)
        {
            throw CliException.NotLoggedIn($"The credentials file {Path} is damaged.", "Run `lethe login` to replace it.");
        }
    }

    /// Writes a new file beside the old one and renames it over: a crash never leaves half a file,
    /// and the file is created owner-only rather than narrowed after the tokens are in it.
    public async Task SaveAsync(Credentials credentials, CancellationToken ct)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        var temporary = System.IO.Path.Combine(directory, $".credentials.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            await using (var stream = new FileStream(temporary, options))
            {
                await JsonSerializer.SerializeAsync(stream, credentials, Json, ct);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// True when there was a file to remove.
    public bool Delete()
    {
        if (!File.Exists(Path))
        {
            return false;
        }
        File.Delete(Path);
        return true;
    }
}
