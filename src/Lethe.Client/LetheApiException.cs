using System.Net;

namespace Lethe.Client;

/// An error answer from the Lethe API, read from its problem details (RFC 7807).
public class LetheApiException : Exception
{
    public LetheApiException() : this(HttpStatusCode.InternalServerError, "The Lethe API answered with an error.", null, null, null) { }

    public LetheApiException(string message) : this(HttpStatusCode.InternalServerError, message, null, null, null) { }

    public LetheApiException(string message, Exception innerException) : base(message, innerException)
    {
        Errors = new Dictionary<string, string[]>();
    }

    public LetheApiException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
        : base(Compose(title, detail, errors))
    {
        StatusCode = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        TraceId = traceId;
    }

    public HttpStatusCode StatusCode { get; }
    public string? Title { get; }
    public string? Detail { get; }

    /// Field name to messages, for validation problems.
    public IReadOnlyDictionary<string, string[]> Errors { get; }
    public string? TraceId { get; }

    private static string Compose(string title, string? detail, IReadOnlyDictionary<string, string[]>? errors)
    {
        var parts = new List<string> { title };
        if (!string.IsNullOrWhiteSpace(detail))
        {
            parts.Add(detail);
        }
        if (errors is not null)
        {
            parts.AddRange(errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")));
        }
        return string.Join(" ", parts);
    }
}

/// 400: the request was wrong; <see cref="LetheApiException.Errors"/> says where.
public sealed class LetheValidationException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
    : LetheApiException(status, title, detail, errors, traceId);

/// 401: no identity, or an expired or revoked token.
public sealed class LetheUnauthorizedException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
    : LetheApiException(status, title, detail, errors, traceId);

/// 403: signed in, but the roles do not grant this.
public sealed class LetheForbiddenException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
    : LetheApiException(status, title, detail, errors, traceId);

/// 404: it does not exist, or the caller may not know that it does.
public sealed class LetheNotFoundException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
    : LetheApiException(status, title, detail, errors, traceId);

/// 409: it conflicts with what exists.
public sealed class LetheConflictException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors, string? traceId)
    : LetheApiException(status, title, detail, errors, traceId);
