using System.Text;

namespace Lethe.Blobs;

/// The naming rules of Lethe's blob store, the same for both backends. Names come from modules and
/// sometimes from users (an uploaded file's name), and the file-system backend turns them into paths,
/// so a name that could reach outside its container is refused before any I/O.
///
/// Containers follow Azure's rules: 3 to 63 characters, lower-case letters, digits and single hyphens,
/// starting with a letter or a digit and not ending with a hyphen.
/// Blob names are 1 to 1024 characters, relative and '/'-separated, with no empty, '.' or '..' segment,
/// no backslash, no control character and no drive letter. A segment also must not end with '.'
/// (Azure advises against it, and Windows drops the dot, so "a." and "a" would collide) and is at most
/// 254 bytes in UTF-8 (the common 255-byte file-name limit, less the one character the file-system
/// backend adds), so that both backends accept exactly the same names.
public static class BlobNames
{
    public const int MaxNameLength = 1024;
    public const int MaxSegmentBytes = 254;
    public const int MinContainerLength = 3;
    public const int MaxContainerLength = 63;
    public const int MaxContentTypeLength = 255;

    public static void ValidateContainer(string container)
    {
        if (ContainerError(container) is { } error)
        {
            throw new BlobNameException(error);
        }
    }

    public static void ValidateName(string name)
    {
        if (NameError(name) is { } error)
        {
            throw new BlobNameException(error);
        }
    }

    /// A prefix (of a list or a prefix operation) follows the name rules, except that it may end with '/'
    /// and its last segment may be partial (it may end with '.').
    public static void ValidatePrefix(string? prefix)
    {
        if (PrefixError(prefix) is { } error)
        {
            throw new BlobNameException(error);
        }
    }

    /// Content types travel as HTTP header values on Azure: printable ASCII, bounded.
    public static void ValidateContentType(string? contentType)
    {
        if (contentType is null)
        {
            return;
        }

        if (contentType.Length > MaxContentTypeLength || contentType.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException(
                $"Content type must be at most {MaxContentTypeLength} characters of printable ASCII.", nameof(contentType));
        }
    }

    public static string? ContainerError(string? container)
    {
        if (container is null || container.Length is < MinContainerLength or > MaxContainerLength)
        {
            return $"Container name must be {MinContainerLength} to {MaxContainerLength} characters long.";
        }

        if (container.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            return "Container name may contain only lower-case letters, digits and hyphens.";
        }

        if (container[0] == '-')
        {
            return "Container name must start with a letter or a digit.";
        }

        if (container[^1] == '-')
        {
            return "Container name must not end with a hyphen.";
        }

        return container.Contains("--", StringComparison.Ordinal)
            ? "Container name must not contain consecutive hyphens."
            : null;
    }

    public static string? NameError(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "Blob name must not be empty.";
        }

        return PathError(name, "Blob name", isPrefix: false);
    }

    public static string? PrefixError(string? prefix)
        => string.IsNullOrEmpty(prefix) ? null : PathError(prefix, "Blob prefix", isPrefix: true);

    /// The container's name in the backend: the configured prefix, then the container.
    public static string PhysicalContainer(string? containerPrefix, string container)
    {
        ValidateContainer(container);
        var physical = containerPrefix + container;
        if (physical.Length > MaxContainerLength)
        {
            throw new BlobNameException(
                $"Container name must be at most {MaxContainerLength - containerPrefix!.Length} characters long with the configured container prefix.");
        }

        return physical;
    }

    /// The container's name as callers know it, for a backend container that belongs to this store
    /// (it has the prefix and the rest is a valid container name); null for any other.
    public static string? LogicalContainer(string? containerPrefix, string physical)
    {
        var prefix = containerPrefix ?? "";
        if (!physical.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var container = physical[prefix.Length..];
        return ContainerError(container) is null ? container : null;
    }

    internal static bool IsValidSegment(string segment) => SegmentError(segment, "Blob name", complete: true) is null;

    private static string? PathError(string value, string what, bool isPrefix)
    {
        if (value.Length > MaxNameLength)
        {
            return $"{what} must be at most {MaxNameLength} characters long.";
        }

        if (value.Any(char.IsControl))
        {
            return $"{what} must not contain control characters.";
        }

        if (value.Contains('\\', StringComparison.Ordinal))
        {
            return $"{what} must not contain '\\'; segments are separated by '/'.";
        }

        if (value[0] == '/')
        {
            return $"{what} must be relative: it must not start with '/'.";
        }

        if (value.Length >= 2 && char.IsAsciiLetter(value[0]) && value[1] == ':')
        {
            return $"{what} must be relative: it must not start with a drive letter.";
        }

        if (!IsWellFormedUtf16(value))
        {
            return $"{what} must be valid Unicode text.";
        }

        var segments = value.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            if (isPrefix && last && segments[i].Length == 0)
            {
                // "workspace/" lists a folder.
                break;
            }

            if (SegmentError(segments[i], what, complete: !(isPrefix && last)) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static string? SegmentError(string segment, string what, bool complete)
    {
        if (segment.Length == 0)
        {
            return $"{what} must not contain empty segments ('//', or a '/' at the end).";
        }

        if (complete && segment == ".")
        {
            return $"{what} must not contain '.' segments.";
        }

        if (complete && segment == "..")
        {
            return $"{what} must not contain '..' segments.";
        }

        if (complete && segment[^1] == '.')
        {
            return $"{what} segments must not end with '.'.";
        }

        return Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes
            ? $"{what} segments must be at most {MaxSegmentBytes} bytes long in UTF-8."
            : null;
    }

    private static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}
