using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Lethe.Client;

/// What <c>BundleVerifier.VerifyAsync</c> found: every problem in words (empty when the bundle is intact).
public sealed record BundleVerification(IReadOnlyList<string> Problems, int Files, long Bytes, Guid? RequestId)
{
    public bool IsValid => Problems.Count == 0;
}

/// Checks an export bundle against its manifest: every file the manifest lists is in the zip with the size and
/// SHA-256 it states, every file in the zip (but the manifest) is listed, and every location's files exist.
public static class BundleVerifier
{
    public static async Task<BundleVerification> VerifyAsync(Stream bundle, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var problems = new List<string>();
        ZipArchive zip;
        try
        {
            zip = await ZipArchive.CreateAsync(bundle, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, ct);
        }
        catch (InvalidDataException)
        {
            return new(["The file is not a zip archive."], 0, 0, null);
        }
        await using (zip)
        {
            var manifestEntry = zip.GetEntry("manifest.json");
            if (manifestEntry is null)
            {
                return new(["The bundle has no manifest.json at its root."], 0, 0, null);
            }
            Manifest? manifest;
            try
            {
                var stream = await manifestEntry.OpenAsync(ct);
                await using (stream)
                {
                    manifest = await JsonSerializer.DeserializeAsync<Manifest>(stream, LetheClient.Json, ct);
                }
            }
            catch (JsonException e)
            {
                return new([$"manifest.json is not valid JSON: {e.Message}"], 0, 0, null);
            }
            if (manifest?.Files is null)
            {
                return new(["manifest.json lists no files."], 0, 0, manifest?.RequestId);
            }
            var listed = new HashSet<string>(StringComparer.Ordinal);
            long bytes = 0;
            foreach (var file in manifest.Files)
            {
                if (file.Path is null || !listed.Add(file.Path))
                {
                    problems.Add(file.Path is null ? "manifest.json lists a file without a path." : $"manifest.json lists {file.Path} twice.");
                    continue;
                }
                var entry = zip.GetEntry(file.Path);
                if (entry is null)
                {
                    problems.Add($"{file.Path} is listed in manifest.json but missing from the bundle.");
                    continue;
                }
                var (length, sha) = await HashAsync(entry, ct);
                bytes += length;
                if (length != file.Bytes)
                {
                    problems.Add($"{file.Path} has {length} bytes; manifest.json says {file.Bytes}.");
                }
                if (!string.Equals(sha, file.Sha256, StringComparison.Ordinal))
                {
                    problems.Add($"{file.Path} has SHA-256 {sha}; manifest.json says {file.Sha256}.");
                }
            }
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName != "manifest.json" && !entry.FullName.EndsWith('/') && !listed.Contains(entry.FullName))
                {
                    problems.Add($"{entry.FullName} is in the bundle but not listed in manifest.json.");
                }
            }
            foreach (var location in manifest.Locations ?? [])
            {
                foreach (var path in location.Files ?? [])
                {
                    if (!listed.Contains(path))
                    {
                        problems.Add($"The location {location.Location} names {path}, which manifest.json does not list.");
                    }
                }
            }
            return new(problems, listed.Count, bytes, manifest.RequestId);
        }
    }

    public static async Task<BundleVerification> VerifyAsync(string path, CancellationToken ct = default)
    {
        await using var file = File.OpenRead(path);
        return await VerifyAsync(file, ct);
    }

    private static async Task<(long Length, string Sha256)> HashAsync(ZipArchiveEntry entry, CancellationToken ct)
    {
        Stream content;
        try
        {
            content = await entry.OpenAsync(ct);
        }
        catch (InvalidDataException)
        {
            return (-1, "(unreadable)");
        }
        await using (content)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long length = 0;
            try
            {
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                }
            }
            catch (InvalidDataException)
            {
                return (-1, "(corrupt)");
            }
            return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
    }

    private sealed record Manifest(Guid? RequestId, string? Subject, IReadOnlyList<ManifestLocation>? Locations, IReadOnlyList<ManifestFile>? Files);

    private sealed record ManifestLocation(string? Module, string? Location, IReadOnlyList<string>? Files);

    private sealed record ManifestFile(string? Path, long Bytes, string? Sha256);
}
