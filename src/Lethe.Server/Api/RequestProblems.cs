using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;

namespace Lethe.Server.Api;

/// Bad input, said in words. ASP.NET Core and System.Text.Json describe a request they cannot read in
/// their own terms (CLR type names, the whole offending value); this turns those exceptions into problem
/// details that name the field and what it must be, and <see cref="Sanitize"/> makes sure that no problem
/// body, whoever wrote it, names a .NET type or echoes more than a short piece of what was sent.
internal static partial class RequestProblems
{
    public const string InvalidTitle = "The request is invalid.";
    public const string MalformedTitle = "The request is malformed.";
    public const string TooLargeTitle = "The request body is too large.";

    private const string BodyRequired = "A JSON request body is required.";

    /// Unbroken runs (an email, a name, a value) longer than this are cut when a message repeats them.
    public const int EchoLimit = 100;

    /// The same for runs that are paths or resource IDs (they contain '/').
    public const int PathEchoLimit = 400;

    /// No message in a problem is longer than this.
    public const int MessageLimit = 1000;

    /// The problem for an exception that means "the request is bad", or null when it is not one.
    public static ProblemDetails? From(Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } => FromJson(json),
        BadHttpRequestException { InnerException: InvalidDataException form } => FromForm(form.Message),
        BadHttpRequestException bad => FromBadRequest(bad),
        _ => null,
    };

    /// Reads the request's form; a body that is not a well-formed form (no boundary, unterminated, a part
    /// without Content-Disposition, more parts than allowed) is a bad request, not a server error.
    public static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (InvalidDataException e)
        {
            throw new BadHttpRequestException(e.Message, StatusOf(e.Message), e);
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            // MultipartReader's "Unexpected end of Stream": the body ended before its closing boundary.
            throw new BadHttpRequestException("The multipart body ended before its closing boundary.", StatusCodes.Status400BadRequest, new InvalidDataException("The multipart body ended before its closing boundary.", e));
        }
    }

    private static ProblemDetails FromForm(string message)
    {
        var status = StatusOf(message);
        var detail = message switch
        {
            _ when message.StartsWith("Missing content-type boundary", StringComparison.Ordinal)
                => "The multipart/form-data body has no boundary in its Content-Type header.",
            _ when message.StartsWith("Unrecognized Content-Disposition", StringComparison.Ordinal) || message.Contains("Content-Disposition", StringComparison.Ordinal)
                => "Every part of a multipart/form-data body needs a Content-Disposition header naming the field (form-data; name=\"...\").",
            _ when FormValueCountLimit().Match(message) is { Success: true } m
                => $"The form has more parts than the {m.Groups["n"].Value} allowed.",
            _ when status == StatusCodes.Status413PayloadTooLarge => "The form exceeds a size limit: " + message,
            _ => "The multipart/form-data body is malformed: " + message,
        };
        return Problem(status, status == StatusCodes.Status413PayloadTooLarge ? TooLargeTitle : MalformedTitle, detail);
    }

    // FormFeature and MultipartReader say "... limit N exceeded." for every limit they enforce.
    private static int StatusOf(string message)
        => message.Contains("limit", StringComparison.OrdinalIgnoreCase) && message.Contains("exceeded", StringComparison.OrdinalIgnoreCase)
            ? StatusCodes.Status413PayloadTooLarge
            : StatusCodes.Status400BadRequest;

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
    {
        var message = bad.Message;
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(bad.StatusCode, TooLargeTitle, "The request body is larger than this endpoint accepts.");
        }
        if (BindFailed().Match(message) is { Success: true } bind)
        {
            var name = bind.Groups["name"].Value;
            return Invalid(name, $"'{name}' must be {Expected(bind.Groups["type"].Value, null, json: false)}.");
        }
        if (RequiredMissing().Match(message) is { Success: true } required)
        {
            var name = required.Groups["name"].Value;
            var source = required.Groups["source"].Value;
            return source.Equals("body", StringComparison.OrdinalIgnoreCase)
                ? Problem(StatusCodes.Status400BadRequest, InvalidTitle, BodyRequired)
                : Invalid(name, $"'{name}' is required (in the {SourceWords(source)}).");
        }
        if (ImplicitBody().IsMatch(message) || BodyEmpty().IsMatch(message))
        {
            return Problem(StatusCodes.Status400BadRequest, InvalidTitle, BodyRequired);
        }
        if (ReadFailed().Match(message) is { Success: true } read)
        {
            return Problem(bad.StatusCode, MalformedTitle, $"The request body could not be read as {read.Groups["as"].Value}.");
        }
        if (MediaType().Match(message) is { Success: true } media)
        {
            var kind = media.Groups["kind"].Value;
            var expected = kind == "JSON" ? "JSON (Content-Type: application/json)" : "a form (Content-Type: multipart/form-data or application/x-www-form-urlencoded)";
            return Problem(bad.StatusCode, "The content type is not supported.", $"The request body must be {expected}, not '{media.Groups["got"].Value}'.");
        }
        return Problem(bad.StatusCode, MalformedTitle, message);
    }

    private static ProblemDetails FromJson(JsonException json)
    {
        var field = Field(json.Path);
        var message = json.Message;
        if (Converted().Match(message) is { Success: true } converted)
        {
            var expected = Expected(converted.Groups["type"].Value, field, json: true);
            return field is null
                ? Problem(StatusCodes.Status400BadRequest, InvalidTitle, $"The request body must be {expected}.")
                : Invalid(field, $"'{field}' must be {expected}.");
        }
        if (MissingProperties().Match(message) is { Success: true } missing)
        {
            return Problem(StatusCodes.Status400BadRequest, InvalidTitle, $"The request body lacks required properties: {missing.Groups["names"].Value.TrimEnd('.')}.");
        }
        // A reader error ("'x' is an invalid start of a value"): its own words, with where it was.
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        var words = cut >= 0 ? message[..cut] : message;
        var where = json.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, position {json.BytePositionInLine + 1}{(field is null ? "" : $", at '{field}'")})")
            : "";
        return Problem(StatusCodes.Status400BadRequest, "The request body is not valid JSON.", words.TrimEnd('.') + where + ".");
    }

    /// The JSON path as the client wrote the field ("$.owner.email" is "owner.email"), null for the root.
    private static string? Field(string? path)
        => string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string SourceWords(string source) => source.ToLowerInvariant() switch
    {
        "route" => "path",
        "query string" or "query" => "query string",
        "header" => "headers",
        var other => other,
    };

    private static readonly ConcurrentDictionary<string, Type?> Types = new(StringComparer.Ordinal);

    /// What a value of a CLR type (as a message names it) looks like to a client, in words.
    internal static string Expected(string typeName, string? field, bool json)
    {
        if (Types.GetOrAdd(typeName.Trim(), TypeNamed) is { } type)
        {
            // With constructor parameters, System.Text.Json names the object it was building, not the
            // field's type: describe the field's own type.
            if (field is not null && Describe(type) == "an object" && PropertyOf(type, field) is { } property)
            {
                return Describe(property.PropertyType);
            }
            return Describe(type);
        }
        // Minimal APIs name parameter types in C# form (Guid, int?, Nullable<int>).
        var name = typeName.Trim();
        if (NullableOf().Match(name) is { Success: true } nullable)
        {
            name = nullable.Groups["inner"].Value;
        }
        return name.TrimEnd('?') switch
        {
            "string" or "char" => "a string",
            "Guid" => Describe(typeof(Guid)),
            "bool" => Describe(typeof(bool)),
            "int" or "long" or "short" or "byte" or "uint" or "ulong" => Describe(typeof(int)),
            "double" or "float" or "decimal" => Describe(typeof(double)),
            "DateTimeOffset" or "DateTime" => Describe(typeof(DateTimeOffset)),
            "DateOnly" => Describe(typeof(DateOnly)),
            "TimeOnly" or "TimeSpan" => Describe(typeof(TimeOnly)),
            var other => Types.GetOrAdd(other, TypeNamed) is { } found ? Describe(found) : json ? "an object" : "a valid value",
        };
    }

    private static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t switch
        {
            _ when t == typeof(string) || t == typeof(char) => "a string",
            _ when t == typeof(Guid) => "a GUID (such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
            _ when t == typeof(bool) => "true or false",
            _ when t.IsEnum => "one of " + string.Join(", ", Enum.GetNames(t).Select(n => $"'{n}'")),
            _ when t == typeof(float) || t == typeof(double) || t == typeof(decimal) => "a number",
            _ when t.IsPrimitive => "a whole number within range",
            _ when t == typeof(DateTimeOffset) || t == typeof(DateTime) => "a date and time in ISO 8601 form (such as 2024-05-01T12:00:00Z)",
            _ when t == typeof(DateOnly) => "a date in ISO 8601 form (such as 2024-05-01)",
            _ when t == typeof(TimeOnly) || t == typeof(TimeSpan) => "a time (such as 19:30)",
            _ when t.GetInterfaces().Any(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
                || t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) => "an object",
            _ when typeof(System.Collections.IEnumerable).IsAssignableFrom(t) => "an array",
            _ => "an object",
        };
    }

    private static System.Reflection.PropertyInfo? PropertyOf(Type type, string field)
    {
        var name = field[(field.LastIndexOf('.') + 1)..];
        if (name.Contains('[', StringComparison.Ordinal))
        {
            return null; // an element of a collection: the property's type is not the element's
        }
        return type.GetProperties().FirstOrDefault(p => string.Equals(
            p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), true).OfType<System.Text.Json.Serialization.JsonPropertyNameAttribute>().FirstOrDefault()?.Name ?? p.Name,
            name, StringComparison.OrdinalIgnoreCase));
    }

    // The CLR name in a message (System.Guid, System.Nullable`1[System.Guid], Lethe.Client.CreateWorkspaceRequest).
    private static Type? TypeNamed(string name)
    {
        if (Type.GetType(name, throwOnError: false) is { } type)
        {
            return type;
        }
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!assembly.IsDynamic && assembly.GetType(name, throwOnError: false) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    // The message is the detail too: clients that show only the detail still learn which field.
    private static HttpValidationProblemDetails Invalid(string field, string message)
        => new(new Dictionary<string, string[]> { [field] = [message] }) { Status = StatusCodes.Status400BadRequest, Title = InvalidTitle, Detail = message };

    private static ProblemDetails Problem(int status, string title, string detail)
        => new() { Status = status, Title = title, Detail = detail };

    /// Applied to every problem this server writes: a problem says what was wrong in words, so .NET type
    /// names are replaced, values repeated from the request are cut to a recognizable start, and no
    /// message is longer than <see cref="MessageLimit"/>.
    public static void Sanitize(ProblemDetails problem, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(context);
        // Statuses that ASP.NET Core sets without words (status code pages) get them here.
        if (problem.Status == StatusCodes.Status413PayloadTooLarge)
        {
            problem.Title = TooLargeTitle;
            problem.Detail ??= "The request body is larger than this endpoint accepts.";
        }
        else if (problem.Status == StatusCodes.Status415UnsupportedMediaType && problem.Detail is null)
        {
            var accepted = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes;
            problem.Title = "The content type is not supported.";
            problem.Detail = accepted is { Count: > 0 }
                ? $"The request body must be sent as {string.Join(" or ", accepted)}."
                : "The request body's Content-Type is not one this operation accepts: the API takes application/json (multipart/form-data or raw content where /openapi/v1.json says so).";
        }
        problem.Title = Clean(problem.Title);
        problem.Detail = Clean(problem.Detail);
        if (problem is HttpValidationProblemDetails validation)
        {
            foreach (var key in validation.Errors.Keys.ToList())
            {
                var messages = validation.Errors[key].Select(m => Clean(m) ?? "").ToArray();
                var cleanKey = Clean(key) ?? "";
                if (cleanKey != key)
                {
                    validation.Errors.Remove(key);
                }
                validation.Errors[cleanKey] = messages;
            }
        }
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    internal static string? Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }
        var clean = ClrName().Replace(text, "a value of another type");
        clean = LongRun().Replace(clean, m => Cut(m.Value));
        return clean.Length <= MessageLimit ? clean : string.Concat(clean.AsSpan(0, MessageLimit - 1), "…");
    }

    // Resource IDs and paths are long by nature: they are cut later, and keep their end visible as well.
    private static string Cut(string value)
        => value.Length <= (value.Contains('/', StringComparison.Ordinal) ? PathEchoLimit : EchoLimit)
            ? value
            : string.Concat(value.AsSpan(0, 40), "… (", value.Length.ToString(CultureInfo.InvariantCulture), " characters)");

    [GeneratedRegex(@"^Failed to bind parameter ""(?<type>.+) (?<name>[^ ""]+)"" from """, RegexOptions.Singleline)]
    private static partial Regex BindFailed();

    [GeneratedRegex(@"^Required parameter ""(?<type>.+) (?<name>[^ ""]+)"" was not provided from (?<source>[^.]+)\.", RegexOptions.Singleline)]
    private static partial Regex RequiredMissing();

    [GeneratedRegex(@"^Implicit body inferred for parameter ")]
    private static partial Regex ImplicitBody();

    [GeneratedRegex(@"request body was empty|no body was provided", RegexOptions.IgnoreCase)]
    private static partial Regex BodyEmpty();

    [GeneratedRegex(@"^Failed to read parameter "".+"" from the request body as (?<as>JSON|form)\.", RegexOptions.Singleline)]
    private static partial Regex ReadFailed();

    [GeneratedRegex(@"^Expected a supported (?<kind>JSON|form) media type but got ""(?<got>.*)""\.", RegexOptions.Singleline)]
    private static partial Regex MediaType();

    [GeneratedRegex(@"could not be converted to (?<type>.+?)\. Path:", RegexOptions.Singleline)]
    private static partial Regex Converted();

    [GeneratedRegex(@"missing required properties,? including:? (?<names>.+?)(?: Path:|$)", RegexOptions.Singleline)]
    private static partial Regex MissingProperties();

    [GeneratedRegex(@"^(?:System\.)?Nullable(?:`1\[\[?|<)(?<inner>[^,\]>]+)")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"Form value count limit (?<n>\d+) exceeded")]
    private static partial Regex FormValueCountLimit();

    // A namespace-qualified .NET name (System.Guid, Lethe.Client.CreateWorkspaceRequest, generic arguments
    // included), or a bare exception type name; not a resource provider (Microsoft.DevTestLab, Microsoft.DevTestLab/labs).
    [GeneratedRegex(@"'?\b(?:(?:System|Lethe|Npgsql|Azure)(?:\.[A-Za-z_][\w`]*)+|Microsoft(?:\.[A-Za-z_][\w`]*){2,})(?![\w`/])(?:\[[^\]\s]*\]+)?'?|\b\w*Exception\b")]
    private static partial Regex ClrName();

    [GeneratedRegex(@"[^\s'""]{101,}")]
    private static partial Regex LongRun();
}
