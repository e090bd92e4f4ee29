using System.Globalization;
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
            next = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?$top={take}&$skipToken={Encode(skip + take)}";
        }
        return new ArmList<T>(rows.Select(map).ToList(), next);
    }

    private static string Encode(int offset) => "o" + offset.ToString(CultureInfo.InvariantCulture);

    private static bool TryDecode(string token, out int offset)
    {
        offset = 0;
        return token.Length > 1 && token[0] == 'o' && int.TryParse(token.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }
}
