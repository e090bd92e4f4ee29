namespace Lethe.Blobs;

/// A container name, blob name or prefix broke a naming rule. The message states the rule and never
/// echoes the name (it may carry personal data) or a path, so it is safe to show and to log.
public sealed class BlobNameException : ArgumentException
{
    public BlobNameException()
        : base("Invalid blob or container name.")
    {
    }

    public BlobNameException(string message)
        : base(message)
    {
    }

    public BlobNameException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// The blob does not exist or is soft-deleted. The message names the container only, for the same
/// reason as <see cref="BlobNameException"/>; the blob's name is on <see cref="Name"/>.
public sealed class BlobNotFoundException : Exception
{
    public BlobNotFoundException()
        : base("The blob was not found.")
    {
    }

    public BlobNotFoundException(string message)
        : base(message)
    {
    }

    public BlobNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BlobNotFoundException(string container, string name)
        : base($"The blob was not found in container '{container}'.")
    {
        Container = container;
        Name = name;
    }

    public string? Container { get; }

    public string? Name { get; }
}
