using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace Lethe.Gallery;

/// The Catalog API's query options, parsed by Microsoft.OData's parser against the catalog's EDM model and
/// compiled to a predicate and an order over <see cref="CatalogItem"/>s. Who may see what is not part of it:
/// the visibility rule is applied by <see cref="CatalogListing"/> before the user's filter, whatever it says.
public sealed class CatalogQuery
{
    public const int DefaultTop = 100;
    public const int MaxTop = 1000;
    public const int MaxSkip = 100_000;
    public const int MaxOptionLength = 2048;
    public const int MaxStringLength = 256;
    public const int MaxNodes = 100;
    public const int MaxDepth = 12;

    /// The properties of an entity on the wire, in the order they are written.
    public static readonly IReadOnlyList<string> Properties = ["id", "kind", "name", "description", "tags", "visibility", "author", "created_at", "updated_at"];

    private static readonly string[] AllowedFunctions = ["contains", "startswith", "endswith", "tolower", "toupper", "length", "year", "month", "day"];
    private static readonly ConcurrentDictionary<string, CompiledFilter> FilterCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, CatalogQuery> QueryCache = new(StringComparer.Ordinal);
    private const int FilterCacheSize = 16_384;

    public static IEdmModel Model { get; } = BuildModel(out EntityType, out EntitySet);
    private static readonly IEdmEntityType EntityType;
    private static readonly IEdmEntitySet EntitySet;

    private CatalogQuery() { }

    /// A predicate over an item; <paramref name="AuthorId"/> is set when the filter is `author/id eq '...'`
    /// ANDed with anything, so that only that author's items need to be looked at. The predicate is null when
    /// the filter is that equality alone: the author's index answers it whole.
    internal sealed record CompiledFilter(Func<CatalogItem, CatalogState, bool>? Predicate, string? AuthorId);

    public Func<CatalogItem, CatalogState, bool>? Filter { get; private init; }
    public string? FilterAuthorId { get; private init; }
    public IReadOnlyList<(Func<CatalogItem, CatalogState, object?> Key, bool Descending)> OrderBy { get; private init; } = [];
    public IReadOnlySet<string>? Select { get; private init; }
    public int Top { get; private init; } = DefaultTop;
    public int Skip { get; private init; }
    public bool Count { get; private init; }

    /// `author/id eq '...'` alone, every other option at its default: that author's list as anyone without a token
    /// sees it, the same answer for all of them.
    public bool IsAuthorListOnly => FilterAuthorId is not null && Filter is null && OrderBy.Count == 0 && Select is null
        && Skip == 0 && Top == DefaultTop && !Count;

    /// The query, or the parser's message for what is wrong with it.
    public static (CatalogQuery? Query, string? Option, string? Error) Parse(string? filter, string? orderBy, string? select, string? top, string? skip, string? count)
    {
        foreach (var (name, value) in new[] { ("$filter", filter), ("$orderby", orderBy), ("$select", select), ("$top", top), ("$skip", skip), ("$count", count) })
        {
            if (value is { Length: > MaxOptionLength })
            {
                return (null, name, $"{name} is longer than {MaxOptionLength} characters.");
            }
        }
        // The same options always parse to the same query (who asks is not part of it): parsed once, kept.
        var key = string.Join('\u0001', filter, orderBy, select, top, skip, count);
        if (QueryCache.TryGetValue(key, out var known))
        {
            return (known, null, null);
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                options[name] = value;
            }
        }
        Add("$orderby", orderBy);
        Add("$select", select);
        Add("$top", top);
        Add("$skip", skip);
        Add("$count", count);
        var parser = NewParser(options);
        string current = "$filter";
        try
        {
            CompiledFilter? compiled = null;
            if (!string.IsNullOrWhiteSpace(filter))
            {
                compiled = CompileFilter(filter);
            }
            current = "$orderby";
            var order = parser.ParseOrderBy();
            var keys = new List<(Func<CatalogItem, CatalogState, object?>, bool)>();
            var orderNodes = 0;
            for (var clause = order; clause is not null; clause = clause.ThenBy)
            {
                orderNodes += CountNodes(clause.Expression, 1, out _);
                if (orderNodes > MaxNodes || keys.Count >= 5)
                {
                    return (null, current, "$orderby has too many terms.");
                }
                keys.Add((Compile(clause.Expression), clause.Direction == OrderByDirection.Descending));
            }
            current = "$select";
            var selectClause = parser.ParseSelectAndExpand();
            HashSet<string>? selected = null;
            if (selectClause is not null && !selectClause.AllSelected)
            {
                selected = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in selectClause.SelectedItems)
                {
                    switch (item)
                    {
                        case PathSelectItem path when path.SelectedPath.FirstSegment is PropertySegment property:
                            selected.Add(property.Property.Name);
                            break;
                        case WildcardSelectItem:
                            selected = null;
                            break;
                        default:
                            return (null, current, "$select names properties of an entity, e.g. $select=id,name,kind.");
                    }
                    if (selected is null)
                    {
                        break;
                    }
                }
            }
            current = "$top";
            var topValue = parser.ParseTop();
            if (topValue is < 0 or > MaxTop)
            {
                return (null, current, $"$top must be between 0 and {MaxTop}.");
            }
            current = "$skip";
            var skipValue = parser.ParseSkip();
            if (skipValue is < 0 or > MaxSkip)
            {
                return (null, current, $"$skip must be between 0 and {MaxSkip}.");
            }
            current = "$count";
            var countValue = parser.ParseCount();
            var parsed = new CatalogQuery
            {
                Filter = compiled?.Predicate,
                FilterAuthorId = compiled?.AuthorId,
                OrderBy = keys,
                Select = selected,
                Top = (int)(topValue ?? DefaultTop),
                Skip = (int)(skipValue ?? 0),
                Count = countValue ?? false,
            };
            if (QueryCache.Count >= FilterCacheSize)
            {
                QueryCache.Clear();
            }
            QueryCache[key] = parsed;
            return (parsed, null, null);
        }
        catch (ODataException e)
        {
            // The parser names the model's types by their EDM namespace; a client knows them as "Entity" and "Author".
            return (null, current, e.Message.Replace("Lethe.Catalog.", "", StringComparison.Ordinal));
        }
        catch (CatalogQueryException e)
        {
            return (null, current, e.Message);
        }
    }

    private static ODataQueryOptionParser NewParser(Dictionary<string, string> options)
    {
        var parser = new ODataQueryOptionParser(Model, EntityType, EntitySet, options)
        {
            Resolver = new ODataUriResolver { EnableCaseInsensitive = false },
        };
        parser.Settings.MaximumExpansionDepth = 0;
        parser.Settings.MaximumExpansionCount = 0;
        return parser;
    }

    /// Parsing is the expensive part of a request; the same filter text always compiles to the same
    /// predicate (visibility is not in it), so compiled filters are kept, a bounded number of them.
    private static CompiledFilter CompileFilter(string filter)
    {
        if (FilterCache.TryGetValue(filter, out var cached))
        {
            return cached;
        }
        if (ParenthesisDepth(filter) > MaxDepth)
        {
            throw new CatalogQueryException($"$filter is nested more than {MaxDepth} levels deep.");
        }
        var clause = NewParser(new Dictionary<string, string>(StringComparer.Ordinal) { ["$filter"] = filter }).ParseFilter();
        if (CountNodes(clause.Expression, 1, out var depth) > MaxNodes)
        {
            throw new CatalogQueryException($"$filter has more than {MaxNodes} terms.");
        }
        if (depth > MaxDepth)
        {
            throw new CatalogQueryException($"$filter is nested more than {MaxDepth} levels deep.");
        }
        var predicate = CompilePredicate(clause.Expression);
        var authorId = AuthorIdOf(clause.Expression);
        var authorOnly = authorId is not null && Strip(clause.Expression) is BinaryOperatorNode { OperatorKind: BinaryOperatorKind.Equal };
        var compiled = new CompiledFilter(authorOnly ? null : predicate, authorId);
        if (FilterCache.Count >= FilterCacheSize)
        {
            FilterCache.Clear();
        }
        FilterCache[filter] = compiled;
        return compiled;
    }

    /// The parser drops redundant parentheses from the tree, so nesting is also measured on the text
    /// (outside string literals, where '' is an escaped quote).
    private static int ParenthesisDepth(string text)
    {
        int depth = 0, max = 0;
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '(')
            {
                max = Math.Max(max, ++depth);
            }
            else if (!quoted && c == ')')
            {
                depth--;
            }
        }
        return max;
    }

    private static string? AuthorIdOf(QueryNode node) => node switch
    {
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and => AuthorIdOf(and.Left) ?? AuthorIdOf(and.Right),
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.Equal } eq when IsAuthorId(eq.Left) && Strip(eq.Right) is ConstantNode { Value: string id } => id,
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.Equal } eq when IsAuthorId(eq.Right) && Strip(eq.Left) is ConstantNode { Value: string id } => id,
        _ => null,
    };

    private static bool IsAuthorId(QueryNode node)
        => Strip(node) is SingleValuePropertyAccessNode { Property.Name: "id", Source: SingleComplexNode { Property.Name: "author" } };

    private static QueryNode Strip(QueryNode node) => node is ConvertNode convert ? Strip(convert.Source) : node;

    private static int CountNodes(QueryNode node, int level, out int depth)
    {
        depth = level;
        var count = 1;
        foreach (var child in Children(node))
        {
            count += CountNodes(child, level + 1, out var d);
            depth = Math.Max(depth, d);
        }
        if (node is ConstantNode { Value: string s } && s.Length > MaxStringLength)
        {
            throw new CatalogQueryException($"A string in the query is longer than {MaxStringLength} characters.");
        }
        return count;
    }

    private static IEnumerable<QueryNode> Children(QueryNode node) => node switch
    {
        BinaryOperatorNode b => [b.Left, b.Right],
        UnaryOperatorNode u => [u.Operand],
        ConvertNode c => [c.Source],
        SingleValueFunctionCallNode f => f.Parameters,
        LambdaNode l => l.Body is null ? [l.Source] : [l.Source, l.Body],
        InNode i => [i.Left, i.Right],
        CountNode c => [c.Source],
        CollectionConstantNode c => c.Collection,
        _ => [],
    };

    private static Func<CatalogItem, CatalogState, bool> CompilePredicate(QueryNode node)
    {
        var value = CompileEnv(node);
        return (item, state) => value(item, state, null) is true;
    }

    private static Func<CatalogItem, CatalogState, object?> Compile(QueryNode node)
    {
        var value = CompileEnv(node);
        return (item, state) => value(item, state, null);
    }

    /// A lambda variable's value (a tag in `tags/any(t: ...)`), innermost first.
    private sealed record Env(string Name, object? Value, Env? Parent)
    {
        public object? Lookup(string name) => Name == name ? Value : Parent is null ? throw new CatalogQueryException($"The variable {name} is not defined.") : Parent.Lookup(name);
    }

    private delegate object? Eval(CatalogItem item, CatalogState state, Env? env);

    private static Eval CompileEnv(QueryNode node)
    {
        switch (node)
        {
            case ConstantNode constant:
                var c = Normalize(constant.Value);
                return (_, _, _) => c;
            case ConvertNode convert:
                return CompileEnv(convert.Source);
            case SingleValuePropertyAccessNode { Source: SingleComplexNode { Property.Name: "author" } } authorProperty:
                return authorProperty.Property.Name switch
                {
                    "id" => (i, _, _) => i.AuthorId,
                    "name" => (i, s, _) => s.AuthorName(i.AuthorId),
                    var other => throw new CatalogQueryException($"author has no property {other}."),
                };
            case SingleValuePropertyAccessNode { Source: ResourceRangeVariableReferenceNode } property:
                return property.Property.Name switch
                {
                    "id" => (i, _, _) => i.Id,
                    "kind" => (i, _, _) => i.Kind.ToString(),
                    "name" => (i, _, _) => i.Name,
                    "description" => (i, _, _) => i.Description,
                    "visibility" => (i, _, _) => i.Visibility.ToString(),
                    "created_at" => (i, _, _) => i.CreatedAt,
                    "updated_at" => (i, _, _) => i.UpdatedAt,
                    var other => throw new CatalogQueryException($"{other} cannot be used here."),
                };
            case NonResourceRangeVariableReferenceNode variable:
                var name = variable.Name;
                return (_, _, env) => env is null ? null : env.Lookup(name);
            case BinaryOperatorNode binary:
                return CompileBinary(binary);
            case UnaryOperatorNode { OperatorKind: UnaryOperatorKind.Not } not:
                var operand = CompileEnv(not.Operand);
                return (i, s, e) => operand(i, s, e) is bool b ? !b : null;
            case SingleValueFunctionCallNode function:
                return CompileFunction(function);
            case AnyNode any when any.Source is CollectionPropertyAccessNode { Property.Name: "tags" }:
            {
                var variableName = any.CurrentRangeVariable?.Name;
                var body = any.Body is null ? null : CompileEnv(any.Body);
                return (i, s, e) => body is null || variableName is null
                    ? !i.Tags.IsEmpty
                    : i.Tags.Any(t => body(i, s, new Env(variableName, t, e)) is true);
            }
            case AllNode all when all.Source is CollectionPropertyAccessNode { Property.Name: "tags" }:
            {
                var variableName = all.CurrentRangeVariable.Name;
                var body = CompileEnv(all.Body);
                return (i, s, e) => i.Tags.All(t => body(i, s, new Env(variableName, t, e)) is true);
            }
            case CountNode { Source: CollectionPropertyAccessNode { Property.Name: "tags" } }:
                return (i, _, _) => (decimal)i.Tags.Length;
            case InNode @in when @in.Right is CollectionConstantNode list:
            {
                var left = CompileEnv(@in.Left);
                var values = list.Collection.Select(v => Normalize(v.Value)).ToList();
                return (i, s, e) => left(i, s, e) is { } v && values.Any(x => Compare(v, x) == 0);
            }
            case InNode { Left: var tag, Right: CollectionPropertyAccessNode { Property.Name: "tags" } }:
            {
                var left = CompileEnv(tag);
                return (i, s, e) => left(i, s, e) is string v && i.Tags.Contains(v, StringComparer.Ordinal);
            }
            default:
                throw new CatalogQueryException($"This kind of expression ({node.Kind}) is not allowed in the Catalog API.");
        }
    }

    private static Eval CompileBinary(BinaryOperatorNode binary)
    {
        var left = CompileEnv(binary.Left);
        var right = CompileEnv(binary.Right);
        return binary.OperatorKind switch
        {
            BinaryOperatorKind.And => (i, s, e) => left(i, s, e) is true && right(i, s, e) is true,
            BinaryOperatorKind.Or => (i, s, e) => left(i, s, e) is true || right(i, s, e) is true,
            BinaryOperatorKind.Equal => (i, s, e) => Compare(left(i, s, e), right(i, s, e)) == 0,
            BinaryOperatorKind.NotEqual => (i, s, e) => Compare(left(i, s, e), right(i, s, e)) != 0,
            BinaryOperatorKind.GreaterThan => (i, s, e) => Ordered(left(i, s, e), right(i, s, e)) is > 0,
            BinaryOperatorKind.GreaterThanOrEqual => (i, s, e) => Ordered(left(i, s, e), right(i, s, e)) is >= 0,
            BinaryOperatorKind.LessThan => (i, s, e) => Ordered(left(i, s, e), right(i, s, e)) is < 0,
            BinaryOperatorKind.LessThanOrEqual => (i, s, e) => Ordered(left(i, s, e), right(i, s, e)) is <= 0,
            var other => throw new CatalogQueryException($"The operator {other} is not allowed in the Catalog API."),
        };
    }

    private static Eval CompileFunction(SingleValueFunctionCallNode function)
    {
        if (!AllowedFunctions.Contains(function.Name, StringComparer.Ordinal))
        {
            throw new CatalogQueryException($"The function {function.Name} is not allowed in the Catalog API; allowed: {string.Join(", ", AllowedFunctions)}.");
        }
        var args = function.Parameters.Select(CompileEnv).ToArray();
        return function.Name switch
        {
            "contains" => (i, s, e) => args[0](i, s, e) is string a && args[1](i, s, e) is string b ? a.Contains(b, StringComparison.Ordinal) : null,
            "startswith" => (i, s, e) => args[0](i, s, e) is string a && args[1](i, s, e) is string b ? a.StartsWith(b, StringComparison.Ordinal) : null,
            "endswith" => (i, s, e) => args[0](i, s, e) is string a && args[1](i, s, e) is string b ? a.EndsWith(b, StringComparison.Ordinal) : null,
            "tolower" => (i, s, e) => (args[0](i, s, e) as string)?.ToLowerInvariant(),
            "toupper" => (i, s, e) => (args[0](i, s, e) as string)?.ToUpperInvariant(),
            "length" => (i, s, e) => args[0](i, s, e) is string a ? (decimal)a.Length : null,
            "year" => (i, s, e) => args[0](i, s, e) is DateTimeOffset d ? (decimal)d.UtcDateTime.Year : null,
            "month" => (i, s, e) => args[0](i, s, e) is DateTimeOffset d ? (decimal)d.UtcDateTime.Month : null,
            _ => (i, s, e) => args[0](i, s, e) is DateTimeOffset d ? (decimal)d.UtcDateTime.Day : null,
        };
    }

    /// Numbers compare as decimals whatever their EDM type; dates as instants.
    private static object? Normalize(object? value) => value switch
    {
        int or long or short or byte or sbyte or float or double or decimal => Convert.ToDecimal(value, CultureInfo.InvariantCulture),
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        ODataEnumValue e => e.Value,
        _ => value,
    };

    internal static int Compare(object? a, object? b) => Ordered(a, b) ?? (a is null && b is null ? 0 : 1);

    internal static int? Ordered(object? a, object? b) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        (decimal x, decimal y) => x.CompareTo(y),
        (DateTimeOffset x, DateTimeOffset y) => x.CompareTo(y),
        (Guid x, Guid y) => x.CompareTo(y),
        (Guid x, string y) => string.Compare(x.ToString("D"), y, StringComparison.OrdinalIgnoreCase),
        (string x, Guid y) => string.Compare(x, y.ToString("D"), StringComparison.OrdinalIgnoreCase),
        (bool x, bool y) => x.CompareTo(y),
        _ => null,
    };

    private static EdmModel BuildModel(out IEdmEntityType entityType, out IEdmEntitySet entitySet)
    {
        var model = new EdmModel();
        var author = new EdmComplexType("Lethe.Catalog", "Author");
        author.AddStructuralProperty("id", EdmPrimitiveTypeKind.String, isNullable: false);
        author.AddStructuralProperty("name", EdmPrimitiveTypeKind.String, isNullable: false);
        model.AddElement(author);
        var entity = new EdmEntityType("Lethe.Catalog", "Entity");
        entity.AddKeys(entity.AddStructuralProperty("id", EdmPrimitiveTypeKind.Guid, isNullable: false));
        entity.AddStructuralProperty("kind", EdmPrimitiveTypeKind.String, isNullable: false);
        entity.AddStructuralProperty("name", EdmPrimitiveTypeKind.String, isNullable: false);
        entity.AddStructuralProperty("description", EdmPrimitiveTypeKind.String, isNullable: false);
        entity.AddStructuralProperty("tags", new EdmCollectionTypeReference(new EdmCollectionType(EdmCoreModel.Instance.GetString(isNullable: false))));
        entity.AddStructuralProperty("visibility", EdmPrimitiveTypeKind.String, isNullable: false);
        entity.AddStructuralProperty("author", new EdmComplexTypeReference(author, isNullable: false));
        entity.AddStructuralProperty("created_at", EdmPrimitiveTypeKind.DateTimeOffset, isNullable: false);
        entity.AddStructuralProperty("updated_at", EdmPrimitiveTypeKind.DateTimeOffset, isNullable: false);
        model.AddElement(entity);
        var container = new EdmEntityContainer("Lethe.Catalog", "Catalog");
        entitySet = container.AddEntitySet("entities", entity);
        model.AddElement(container);
        entityType = entity;
        return model;
    }
}

/// A query the parser accepted but the Catalog API does not run (a function, an operator, too big).
public sealed class CatalogQueryException(string message) : Exception(message);
