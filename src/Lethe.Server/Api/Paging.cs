using System.Globalization;
using System.Text;
using Lethe.Client;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

/// ARM-style paging: `$top` (1 to 1000, default 100) and an opaque `$skipToken` that the answer's
/// nextLink carries.
internal static class Paging
{
    public const int DefaultTop = 100;
    public const int MaxTop = 1000;

    /// The 400 for a `$top` out of range or a `$skipToken` this server did not issue; null when both are fine.
    public static ValidationProblem? Problem(int? top, string? skipToken)
    {
        if (top is < 1 or > MaxTop)
        {
            return Problems.Invalid("$top", $"$top must be between 1 and {MaxTop}.");
        }
        return skipToken is null || TryDecode(skipToken, out _) ? null : Problems.Invalid("$skipToken", "$skipToken is not a token this server issued.");
    }

    public static async Task<ArmList<T>> PageAsync<TEntity, T>(IQueryable<TEntity> ordered, HttpRequest request, int? top, string? skipToken, Func<TEntity, T> map, CancellationToken ct)
    {
        var take = top ?? DefaultTop;
        var skip = skipToken is null ? 0 : (TryDecode(skipToken, out var s) ? s : 0);
        var rows = await ordered.Skip(skip).Take(take + 1).ToListAsync(ct);
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(rows.Count - 1);
            next = NextLink(request, take, skip + take);
        }
        return new ArmList<T>(rows.Select(map).ToList(), next);
    }

    /// The request's own URL with every query parameter kept (values escaped again) except `$top` and
    /// `$skipToken`, which are set for the next page.
    internal static string NextLink(HttpRequest request, int top, int offset)
        => LinkWith(request, ("$top", top.ToString(CultureInfo.InvariantCulture)), ("$skipToken", Encode(offset)));

    /// The request's own URL with every query parameter kept (values escaped again) except those named in
    /// <paramref name="set"/>, which take the values given there, in that order, at the end: a nextLink.
    internal static string LinkWith(HttpRequest request, params ReadOnlySpan<(string Key, string Value)> set)
    {
        var query = new StringBuilder();
        foreach (var (key, values) in request.Query)
        {
            if (IsSet(key, set))
            {
                continue;
            }
            foreach (var value in values)
            {
                query.Append(EscapeKey(key)).Append('=').Append(Uri.EscapeDataString(value ?? "")).Append('&');
            }
        }
        foreach (var (key, value) in set)
        {
            query.Append(EscapeKey(key)).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
        }
        return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?{query.ToString(0, query.Length - 1)}";
    }

    private static bool IsSet(string key, ReadOnlySpan<(string Key, string Value)> set)
    {
        foreach (var (name, _) in set)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// OData's system parameters keep their '$' as ARM writes them; everything else is escaped.
    private static string EscapeKey(string key)
        => key.StartsWith('$') ? "$" + Uri.EscapeDataString(key[1..]) : Uri.EscapeDataString(key);

    private static string Encode(int offset) => "o" + offset.ToString(CultureInfo.InvariantCulture);

    private static bool TryDecode(string token, out int offset)
    {
        offset = 0;
        return token.Length > 1 && token[0] == 'o' && int.TryParse(token.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }
}
