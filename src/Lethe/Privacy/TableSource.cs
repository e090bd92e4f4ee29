using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace Lethe.Privacy;

/// Reads the keys that rows describing one person hold (<see cref="SubjectRecordAttribute"/>).
public interface ISubjectKeySource
{
    Task<SubjectKeys> KeysOfMatchesAsync(SubjectKeys keys, CancellationToken ct);
}

/// The generic source of a table location, derived from the EF model and the declarations on the entity: a person's
/// rows are those where any subject key column holds one of their keys (each such column has an index that starts
/// with it, so every find is an index seek); Delete is one <c>ExecuteDelete</c>, Anonymize one <c>ExecuteUpdate</c>
/// that replaces, in each matching row, exactly the values that are the person's by the erasure's pseudonym; Keep
/// changes nothing. Adding an entity with declared personal data never needs engine code.
/// Marks the generic table source: its erasure is set-based SQL on the scope's <see cref="LetheDb"/>, so a caller can
/// run it inside a transaction of its own (a request's step and checkpoint commit together).
public interface ITableSource : IPersonalDataSource;

public sealed class TableSource<T>(LetheDb db, PersonalDataLocation location) : ITableSource, ISubjectKeySource where T : class
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public string Location => location.Name;

    public PersonalDataLocation Declaration => location;

    /// The rows of the person, or null when none of the table's key kinds has a value for them.
    public IQueryable<T>? Rows(SubjectKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var e = Expression.Parameter(typeof(T), "e");
        var match = location.Keys.Select(f => KeyMatch(e, f, keys)).OfType<Expression>().Aggregate((Expression?)null, (a, b) => a is null ? b : Expression.OrElse(a, b));
        return match is null ? null : db.Set<T>().Where(Expression.Lambda<Func<T, bool>>(match, e));
    }

    public async IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
    {
        if (Rows(keys) is not { } rows)
        {
            yield break;
        }
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var primaryKey = entity.FindPrimaryKey()?.Properties.Select(p => p.Name).ToList() ?? [];
        var ordered = OrderBy(rows.AsNoTracking(), primaryKey);
        var exported = primaryKey.Concat(location.Fields.Where(f => f.Export == PersonalDataExport.Include).Select(f => f.Name))
            .Distinct(StringComparer.Ordinal)
            .Select(name => (Name: name, Property: typeof(T).GetProperty(name, BindingFlags.Public | BindingFlags.Instance)))
            .Where(p => p.Property is not null)
            .ToList();
        await foreach (var row in ordered.AsAsyncEnumerable().WithCancellation(ct))
        {
            var record = new JsonObject();
            foreach (var (name, property) in exported)
            {
                record[JsonNamingPolicy.CamelCase.ConvertName(name)] = JsonSerializer.SerializeToNode(property!.GetValue(row), property.PropertyType, Json);
            }
            yield return record;
        }
    }

    /// The subject keys held by the person's rows (for <see cref="SubjectRecordAttribute"/> tables): every key column
    /// and every name of each row that matches.
    public async Task<SubjectKeys> KeysOfMatchesAsync(SubjectKeys keys, CancellationToken ct)
    {
        if (Rows(keys) is not { } rows)
        {
            return new SubjectKeys();
        }
        var found = new SubjectKeys();
        var fields = location.Fields.Where(f => f.IsSubjectKey || f.IsName)
            .Select(f => (Field: f, Property: typeof(T).GetProperty(f.Name, BindingFlags.Public | BindingFlags.Instance)))
            .Where(p => p.Property is not null).ToList();
        await foreach (var row in rows.AsNoTracking().Take(1000).AsAsyncEnumerable().WithCancellation(ct))
        {
            var objectIds = new HashSet<Guid>();
            var emails = new HashSet<string>(StringComparer.Ordinal);
            var authors = new HashSet<string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (field, property) in fields)
            {
                var value = property!.GetValue(row);
                switch (value)
                {
                    case null:
                        break;
                    case string text when field.IsName:
                        names.Add(text.Trim());
                        break;
                    case Guid id:
                        objectIds.Add(id);
                        break;
                    case string text when field.Subject == SubjectKind.Email:
                        emails.Add(SubjectKeys.NormalizeEmail(text));
                        break;
                    case string text when field.Subject == SubjectKind.AuthorId:
                        authors.Add(text);
                        break;
                }
            }
            found = found.With(new SubjectKeys { ObjectIds = objectIds, Emails = emails, AuthorIds = authors, Names = names });
        }
        return found;
    }

    public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = Rows(keys);
        switch (location.Strategy)
        {
            case ErasureStrategy.Delete:
                return new(rows is null ? 0 : context.DryRun ? await rows.LongCountAsync(ct) : await rows.ExecuteDeleteAsync(ct), ErasureOutcome.Deleted);
            case ErasureStrategy.Anonymize:
                if (rows is null || context.DryRun)
                {
                    return new(rows is null ? 0 : await rows.LongCountAsync(ct), ErasureOutcome.Pseudonymized);
                }
                return new(await rows.ExecuteUpdateAsync(set => Pseudonymize(set, keys, context.Pseudonym), ct), ErasureOutcome.Pseudonymized);
            case ErasureStrategy.Keep:
                return new(rows is null ? 0 : await rows.LongCountAsync(ct), ErasureOutcome.Kept, Reason: location.Reason);
            default:
                throw new InvalidOperationException($"{location.Name} retains then anonymizes: its module's source applies that, not the generic one.");
        }
    }

    public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
    {
        var count = Rows(keys) is { } rows ? await rows.LongCountAsync(ct) : 0;
        return location.Strategy == ErasureStrategy.Keep ? new Residue(0, count, Reason: location.Reason) : new Residue(count);
    }

    /// Each personal value of a matching row that is the person's becomes the pseudonym's: key columns where they hold
    /// one of the keys, and the other identifying and contact values of a kind whose key matched in that row.
    private void Pseudonymize(UpdateSettersBuilder<T> set, SubjectKeys keys, Pseudonym pseudonym)
    {
        var e = Expression.Parameter(typeof(T), "e");
        var matchByKind = location.Keys.GroupBy(f => f.Subject).ToDictionary(
            g => g.Key,
            g => g.Select(f => KeyMatch(e, f, keys)).OfType<Expression>().Aggregate((Expression?)null, (a, b) => a is null ? b : Expression.OrElse(a, b)));
        foreach (var field in location.Fields.Where(f => f.Category is PersonalDataCategory.Identifier or PersonalDataCategory.Contact))
        {
            var condition = field.IsSubjectKey ? KeyMatch(e, field, keys) : matchByKind.GetValueOrDefault(field.Subject);
            if (condition is null)
            {
                continue;
            }
            var type = field.ClrType ?? typeof(string);
            var property = Property(e, field);
            var replaced = Expression.Condition(condition, Parameter(pseudonym.For(field), type), property);
            SetProperty.MakeGenericMethod(type).Invoke(set, [Expression.Lambda(property, e), Expression.Lambda(replaced, e)]);
        }
    }

    private static readonly MethodInfo SetProperty = typeof(UpdateSettersBuilder<T>).GetMethods()
        .Single(m => m.Name == nameof(UpdateSettersBuilder<T>.SetProperty)
            && m.GetParameters() is [_, { ParameterType: { IsGenericType: true } value }]
            && value.GetGenericTypeDefinition() == typeof(Expression<>));

    private static MethodCallExpression Property(ParameterExpression e, PersonalField field)
        => Expression.Call(typeof(EF), nameof(EF.Property), [field.ClrType ?? typeof(string)], e, Expression.Constant(field.Name));

    /// <c>column = @p1 OR column = @p2 ...</c> for the key values of the field's kind, or null when there are none.
    /// Values go in as parameters, never as literals, so no SQL text (and no log of it) holds personal data.
    private static Expression? KeyMatch(ParameterExpression e, PersonalField field, SubjectKeys keys)
    {
        var type = field.ClrType ?? typeof(string);
        var values = keys.ValuesFor(field.Subject, field.KeyCase).Where(v => Accepts(type, v)).ToList();
        if (values.Count == 0)
        {
            return null;
        }
        var property = Property(e, field);
        return values.Select(v => (Expression)Expression.Equal(property, Parameter(v, type)))
            .Aggregate(Expression.OrElse);
    }

    private static bool Accepts(Type columnType, object value)
        => (Nullable.GetUnderlyingType(columnType) ?? columnType) == value.GetType();

    private static MemberExpression Parameter(object value, Type type)
    {
        var holder = Activator.CreateInstance(typeof(Holder<>).MakeGenericType(type), value)!;
        return Expression.Property(Expression.Constant(holder), "Value");
    }

    private static IQueryable<T> OrderBy(IQueryable<T> rows, IReadOnlyList<string> keyNames)
    {
        var first = true;
        foreach (var name in keyNames)
        {
            var e = Expression.Parameter(typeof(T), "e");
            var type = typeof(T).GetProperty(name)?.PropertyType ?? typeof(object);
            var key = Expression.Lambda(Expression.Call(typeof(EF), nameof(EF.Property), [type], e, Expression.Constant(name)), e);
            var method = first ? nameof(Queryable.OrderBy) : nameof(Queryable.ThenBy);
            rows = (IQueryable<T>)typeof(Queryable).GetMethods()
                .Single(m => m.Name == method && m.GetParameters().Length == 2)
                .MakeGenericMethod(typeof(T), type)
                .Invoke(null, [rows, key])!;
            first = false;
        }
        return rows;
    }
}

/// A closure-like holder: EF Core turns a member of a constant into a query parameter.
internal sealed class Holder<TValue>(TValue value)
{
    public TValue Value { get; } = value;
}
