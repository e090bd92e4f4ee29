using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsvHelper;
using Lethe.Blobs;

namespace Lethe.Privacy.Requests;

public sealed record BundleResult(string Name, long Bytes, string Sha256, int Files);

/// Assembles an export bundle in one streaming pass: the staged data files (as JSON, or NDJSON when large, and a CSV
/// copy of every table), the modules' files, the person's blobs, <c>index.html</c> and, last, <c>manifest.json</c> with
/// the size and SHA-256 of every other file, computed while each is written. The zip goes through a bounded pipe to
/// the blob store, which publishes it only once complete: memory stays flat whatever the size, and a crash leaves no
/// half-written bundle visible (the next run writes it again from the staged files).
public sealed class BundleWriter(IBlobStore blobs, PrivacyRequest request, RequestWork work)
{
    /// Above this many records a location's data file is NDJSON (one record per line) instead of a JSON array.
    public const int JsonArrayLimit = 10_000;

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly List<ManifestFile> _files = [];
    private readonly Dictionary<string, List<string>> _locationFiles = new(StringComparer.Ordinal);
    private readonly List<(string Path, string Description)> _described = [];
    private readonly DateTimeOffset _createdAt = work.AssembledAt ?? DateTimeOffset.UnixEpoch;

    public static string Version { get; } = typeof(BundleWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";

    /// A location's name as a file name: a table's name as it is; a blob location's pattern with its placeholders'
    /// braces dropped and its slashes as dots.
    public static string FileName(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var name = new StringBuilder(location.Length);
        foreach (var c in location)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            {
                name.Append(c);
            }
            else if (c == '/')
            {
                name.Append('.');
            }
        }
        return name.ToString().Trim('.');
    }

    /// What a location holds and why Lethe keeps it, in a sentence or two, for index.html.
    public static string Describe(PersonalDataLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var what = location.Kind == "blob"
            ? location.ClrType
            : $"Your rows of the {location.Module} table {location.Name}: {string.Join(", ", location.Fields.Where(f => f.Export == PersonalDataExport.Include).Select(f => f.Name))}.";
        var rule = location.Strategy switch
        {
            ErasureStrategy.Delete => "Lethe keeps it while you use the service and deletes it when you ask for erasure.",
            ErasureStrategy.Anonymize => "Lethe keeps it while you use the service; on erasure it stays, with you replaced by an anonymous stand-in.",
            ErasureStrategy.RetainThenAnonymize => $"Lethe keeps it for {location.RetentionDays?.ToString(CultureInfo.InvariantCulture) ?? "a set number of"} days after the resource is deleted, then anonymizes it.",
            ErasureStrategy.Keep => "Lethe keeps it after erasure.",
            _ => "",
        };
        return string.Join(" ", new[] { what, rule, location.Reason }.Where(s => !string.IsNullOrWhiteSpace(s)));
    }

    public async Task<BundleResult> WriteAsync(CancellationToken ct)
    {
        var name = PrivacyBlobs.Bundle(request.Id);
        var written = await BlobStreams.WriteAsync(blobs, PrivacyBlobs.Container, name, "application/zip", async (stream, token) =>
        {
            var zip = await ZipArchive.CreateAsync(stream, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, token);
            await using (zip)
            {
                await WriteEntriesAsync(zip, token);
            }
            return _files.Count + 1;
        }, ct);
        return new BundleResult(name, written.Bytes, written.Sha256, written.Result);
    }

    private async Task WriteEntriesAsync(ZipArchive zip, CancellationToken ct)
    {
        foreach (var file in work.Files)
        {
            if (file.Kind == "file")
            {
                await AddAsync(zip, file.Path, file.Description, CompressionLevel.Optimal, async s =>
                {
                    await using var staged = await blobs.OpenReadAsync(PrivacyBlobs.Container, file.Staged, ct);
                    await staged.CopyToAsync(s, ct);
                }, ct);
                Attach(file.Location, file.Path);
                continue;
            }
            var large = file.Records > JsonArrayLimit;
            var path = file.Path + (large ? ".ndjson" : ".json");
            var format = large ? " One record per line (NDJSON): there are many." : "";
            await AddAsync(zip, path, file.Description + format, CompressionLevel.Optimal, s => large ? CopyStagedAsync(file, s, ct) : JsonArrayAsync(file, s, ct), ct);
            Attach(file.Location, path);
            if (file.Kind == "table")
            {
                var csv = file.Path + ".csv";
                await AddAsync(zip, csv, $"The same records as {path}, as a table that any spreadsheet opens (CSV).", CompressionLevel.Optimal, s => CsvAsync(file, s, ct), ct);
                Attach(file.Location, csv);
            }
        }
        foreach (var blob in work.Blobs)
        {
            Stream content;
            try
            {
                content = blob.SoftDeleted
                    ? await blobs.OpenReadDeletedAsync(blob.Container, blob.Name, ct)
                    : await blobs.OpenReadAsync(blob.Container, blob.Name, ct);
            }
            catch (BlobNotFoundException)
            {
                // Deleted (or purged) since the step listed it: it is no longer held.
                continue;
            }
            await using (content)
            {
                var path = $"blobs/{blob.Module}/{blob.Container}/{blob.Name}";
                // Job outputs are mostly compressed already: stored as they are, copied at the store's speed.
                await AddBlobAsync(zip, path, blob.Note ?? $"A file {blob.Module} stores that concerns you.", content, ct);
                Attach(blob.Location, path);
            }
        }
        await AddAsync(zip, "index.html", "This page.", CompressionLevel.Optimal, s => s.WriteAsync(IndexHtml(), ct).AsTask(), ct);
        var manifest = zip.CreateEntry("manifest.json", CompressionLevel.Optimal);
        manifest.LastWriteTime = _createdAt;
        var entry = await manifest.OpenAsync(ct);
        await using (entry)
        {
            await entry.WriteAsync(Manifest(), ct);
        }
    }

    private void Attach(string location, string path)
    {
        if (!_locationFiles.TryGetValue(location, out var list))
        {
            _locationFiles[location] = list = [];
        }
        list.Add(path);
    }

    private async Task AddAsync(ZipArchive zip, string path, string description, CompressionLevel level, Func<Stream, Task> write, CancellationToken ct)
    {
        var entry = zip.CreateEntry(path, level);
        entry.LastWriteTime = _createdAt;
        var stream = await entry.OpenAsync(ct);
        await using (stream)
        {
            var hashing = new HashingStream(stream, leaveOpen: true);
            await using (hashing)
            {
                await write(hashing);
                await hashing.FlushAsync(ct);
                _files.Add(new ManifestFile(path, hashing.Bytes, hashing.Finish()));
            }
        }
        _described.Add((path, description));
    }

    /// A blob, stored as it is (job outputs are mostly compressed already), copied at the store's speed: the next
    /// megabyte is read while the last one is written to the zip and hashed on another core.
    private async Task AddBlobAsync(ZipArchive zip, string path, string description, Stream content, CancellationToken ct)
    {
        var entry = zip.CreateEntry(path, CompressionLevel.NoCompression);
        entry.LastWriteTime = _createdAt;
        var stream = await entry.OpenAsync(ct);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        await using (stream)
        {
            var (current, next) = (_buffers[0], _buffers[1]);
            var hashing = Task.CompletedTask;
            var read = await content.ReadAsync(current, ct);
            while (read > 0)
            {
                await hashing;
                var chunk = current;
                var count = read;
                hashing = Task.Run(() => hash.AppendData(chunk, 0, count), ct);
                var write = stream.WriteAsync(chunk.AsMemory(0, count), ct);
                (current, next) = (next, current);
                var reading = content.ReadAsync(current, ct);
                await write;
                bytes += count;
                read = await reading;
            }
            await hashing;
        }
        _files.Add(new ManifestFile(path, bytes, Convert.ToHexStringLower(hash.GetHashAndReset())));
        _described.Add((path, description));
    }

    private const int BlobBuffer = 1 << 20;

    // The two buffers every blob is copied through (one read into while the other is written and hashed).
    private readonly byte[][] _buffers = [new byte[BlobBuffer], new byte[BlobBuffer]];

    private async Task CopyStagedAsync(StagedFile file, Stream output, CancellationToken ct)
    {
        await using var staged = await blobs.OpenReadAsync(PrivacyBlobs.Container, file.Staged, ct);
        await staged.CopyToAsync(output, ct);
    }

    private async Task JsonArrayAsync(StagedFile file, Stream output, CancellationToken ct)
    {
        await using var writer = new Utf8JsonWriter(output, Indented);
        writer.WriteStartArray();
        await foreach (var line in LinesAsync(file, ct))
        {
            using var record = JsonDocument.Parse(line);
            record.WriteTo(writer);
            await writer.FlushAsync(ct);
        }
        writer.WriteEndArray();
        await writer.FlushAsync(ct);
        await output.WriteAsync("\n"u8.ToArray(), ct);
    }

    /// The CSV copy: a column per property the records have (in the order first seen), values as text; nested values
    /// as their JSON.
    private async Task CsvAsync(StagedFile file, Stream output, CancellationToken ct)
    {
        var columns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var line in LinesAsync(file, ct))
        {
            using var record = JsonDocument.Parse(line);
            foreach (var property in record.RootElement.EnumerateObject())
            {
                if (seen.Add(property.Name))
                {
                    columns.Add(property.Name);
                }
            }
        }
        foreach (var declared in file.Columns)
        {
            if (seen.Add(declared))
            {
                columns.Add(declared);
            }
        }
        await using var csv = CsvWriter.Create(output, leaveOpen: true);
        if (columns.Count == 0)
        {
            await csv.FlushAsync(ct);
            return;
        }
        csv.WriteRecord([.. columns]);
        var values = new string?[columns.Count];
        await foreach (var line in LinesAsync(file, ct))
        {
            using var record = JsonDocument.Parse(line);
            for (var i = 0; i < columns.Count; i++)
            {
                values[i] = record.RootElement.TryGetProperty(columns[i], out var value) ? Text(value) : null;
            }
            csv.WriteRecord(values!);
        }
        await csv.FlushAsync(ct);
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    private async IAsyncEnumerable<string> LinesAsync(StagedFile file, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var staged = await blobs.OpenReadAsync(PrivacyBlobs.Container, file.Staged, ct);
        using var reader = new StreamReader(staged, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }

    private byte[] Manifest()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            writer.WriteStartObject();
            writer.WriteString("requestId", request.Id);
            writer.WriteString("subject", request.SubjectHash);
            writer.WriteString("createdAt", _createdAt);
            writer.WriteString("letheVersion", Version);
            writer.WriteStartArray("locations");
            foreach (var file in work.Files.Where(f => f.Kind != "file"))
            {
                writer.WriteStartObject();
                writer.WriteString("module", file.Module);
                writer.WriteString("location", file.Location);
                writer.WriteString("kind", file.Kind);
                writer.WriteString("strategy", file.Strategy);
                writer.WriteNumber("records", file.Records);
                writer.WriteStartArray("files");
                foreach (var path in _locationFiles.GetValueOrDefault(file.Location) ?? [])
                {
                    writer.WriteStringValue(path);
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            foreach (var file in work.Files.Where(f => f.Kind == "file"))
            {
                // A module's computed file (the Labs CSVs): a table view of the person's rows.
                writer.WriteStartObject();
                writer.WriteString("module", file.Module);
                writer.WriteString("location", file.Location);
                writer.WriteString("kind", "table");
                writer.WriteString("strategy", file.Strategy);
                writer.WriteNumber("records", file.Records);
                writer.WriteStartArray("files");
                writer.WriteStringValue(file.Path);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("files");
            foreach (var file in _files)
            {
                writer.WriteStartObject();
                writer.WriteString("path", file.Path);
                writer.WriteNumber("bytes", file.Bytes);
                writer.WriteString("sha256", file.Sha256);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private byte[] IndexHtml()
    {
        var html = HtmlEncoder.Default;
        var records = work.Files.Sum(f => f.Records);
        var page = new StringBuilder();
        page.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Your data at Lethe</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; line-height: 1.5; }
            table { border-collapse: collapse; width: 100%; }
            th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; }
            th { background: #f6f8fa; }
            code { font-size: .9em; word-break: break-all; }
            td.size { white-space: nowrap; text-align: right; }
            </style>
            </head>
            <body>
            <h1>Your data at Lethe</h1>
            """);
        page.Append(CultureInfo.InvariantCulture, $"""
            <p>This folder holds everything Lethe kept about you on {html.Encode(_createdAt.ToString("d MMMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture))}: {records.ToString("N0", CultureInfo.InvariantCulture)} records in {work.Files.Count(f => f.Records > 0).ToString(CultureInfo.InvariantCulture)} places, and {work.Blobs.Count.ToString(CultureInfo.InvariantCulture)} files.
            Request <code>{request.Id}</code>.</p>
            <p>Files ending in <b>.csv</b> open in any spreadsheet program. Files ending in <b>.json</b> or <b>.ndjson</b> are the same information in a form other programs can read; any text editor shows them.
            Folders under <b>blobs</b> hold files as they were stored (for example the outputs and logs of your jobs).
            <b>manifest.json</b> lists every file with a checksum, so you (or a program such as <code>lethe privacy bundle verify</code>) can check that nothing was changed or lost.</p>
            <table>
            <thead><tr><th>File</th><th>Size</th><th>What it holds and why Lethe keeps it</th></tr></thead>
            <tbody>

            """);
        foreach (var (path, description) in _described)
        {
            var file = _files.First(f => f.Path == path);
            page.Append(CultureInfo.InvariantCulture, $"<tr><td><code>{html.Encode(path)}</code></td><td class=\"size\">{html.Encode(Size(file.Bytes))}</td><td>{html.Encode(description)}</td></tr>\n");
        }
        page.Append("""
            <tr><td><code>index.html</code></td><td class="size"></td><td>This page.</td></tr>
            <tr><td><code>manifest.json</code></td><td class="size"></td><td>The list of every file in this folder with its size and SHA-256 checksum, and how many records each place held.</td></tr>
            </tbody>
            </table>
            </body>
            </html>

            """);
        return Encoding.UTF8.GetBytes(page.ToString());
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GB"),
    };

    private sealed record ManifestFile(string Path, long Bytes, string Sha256);
}
