using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Lethe.Resources;

/// A malformed resource ID; the message says what was wrong and is safe to show (IDs hold no personal data).
public sealed class ResourceIdFormatException(string message) : FormatException(message);

/// One provider type/name pair of a resource ID, e.g. ("labs", "mylab").
public readonly record struct ResourceSegment(string Type, string Name);

/// An Azure-style resource ID: <c>/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]...</c>,
/// or the root scope <c>/</c> that platform-wide roles are assigned at. Comparison is case-insensitive, as in Azure.
public sealed class ResourceId : IEquatable<ResourceId>
{
    public const int MaxNameLength = 90;

    public static ResourceId Root { get; } = new(null, null, null, []);

    private ResourceId(Guid? subscriptionId, string? resourceGroup, string? providerNamespace, IReadOnlyList<ResourceSegment> segments)
    {
        SubscriptionId = subscriptionId;
        ResourceGroup = resourceGroup;
        ProviderNamespace = providerNamespace;
        Segments = segments;
        Value = Format();
        Key = Value.ToLowerInvariant();
    }

    public Guid? SubscriptionId { get; }
    public string? ResourceGroup { get; }
    public string? ProviderNamespace { get; }
    public IReadOnlyList<ResourceSegment> Segments { get; }

    /// The canonical form.
    public string Value { get; }

    /// The lower-cased canonical form: what the database stores to match scopes with an index seek.
    public string Key { get; }

    public bool IsRoot => SubscriptionId is null;
    public bool IsSubscription => SubscriptionId is not null && ResourceGroup is null && Segments.Count == 0;
    public bool IsResourceGroup => ResourceGroup is not null && Segments.Count == 0;

    /// The full resource type, e.g. <c>Microsoft.DevTestLab/labs/virtualmachines</c>; null for root, subscription and group.
    public string? ResourceType => ProviderNamespace is null ? null : ProviderNamespace + "/" + string.Join('/', Segments.Select(s => s.Type));

    public string? Name => Segments.Count > 0 ? Segments[^1].Name : ResourceGroup ?? SubscriptionId?.ToString("D");

    public static ResourceId ForSubscription(Guid subscriptionId) => new(subscriptionId, null, null, []);

    public static ResourceId ForResourceGroup(Guid subscriptionId, string resourceGroup)
    {
        ValidateName(resourceGroup, "resource group name");
        return new(subscriptionId, resourceGroup, null, []);
    }

    public ResourceId Child(string providerNamespace, string type, string name)
    {
        if (SubscriptionId is null)
        {
            throw new ResourceIdFormatException("A resource must live in a subscription.");
        }
        if (ProviderNamespace is not null && !string.Equals(ProviderNamespace, providerNamespace, StringComparison.OrdinalIgnoreCase))
        {
            throw new ResourceIdFormatException($"A child resource must be of the same provider '{ProviderNamespace}'.");
        }
        ValidateNamespace(providerNamespace);
        ValidateType(type);
        ValidateName(name, "resource name");
        return new(SubscriptionId, ResourceGroup, ProviderNamespace ?? providerNamespace, [.. Segments, new ResourceSegment(type, name)]);
    }

    public ResourceId Child(string type, string name)
        => Child(ProviderNamespace ?? throw new ResourceIdFormatException("A child resource needs a provider namespace."), type, name);

    /// The scope above this one; null for the root.
    public ResourceId? Parent => Segments.Count > 0
        ? new(SubscriptionId, ResourceGroup, Segments.Count > 1 ? ProviderNamespace : null, Segments.Take(Segments.Count - 1).ToArray())
        : ResourceGroup is not null ? ForSubscription(SubscriptionId!.Value)
        : SubscriptionId is not null ? Root
        : null;

    /// This scope and every scope above it, from the root down: the scopes whose role assignments apply here.
    public IReadOnlyList<ResourceId> ScopesFromRoot()
    {
        var list = new List<ResourceId>();
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            list.Add(scope);
        }
        list.Reverse();
        return list;
    }

    /// True when <paramref name="other"/> is this scope or lies below it.
    public bool Contains(ResourceId other)
        => IsRoot || other.Key == Key || other.Key.StartsWith(Key + "/", StringComparison.Ordinal);

    public static ResourceId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            throw new ResourceIdFormatException("The resource ID is empty.");
        }
        if (value.Length > 2048)
        {
            throw new ResourceIdFormatException("The resource ID is longer than 2048 characters.");
        }
        if (value[0] != '/')
        {
            throw new ResourceIdFormatException("A resource ID starts with '/'.");
        }
        if (value == "/")
        {
            return Root;
        }
        // A trailing slash is accepted: Azure's own PowerShell samples build IDs with one.
        var parts = value.TrimEnd('/').Split('/');
        // parts[0] is the empty string before the leading slash.
        if (parts.Skip(1).Any(p => p.Length == 0))
        {
            throw new ResourceIdFormatException("A resource ID has no empty segments ('//').");
        }
        if (parts.Length < 3 || !parts[1].Equals("subscriptions", StringComparison.OrdinalIgnoreCase))
        {
            throw new ResourceIdFormatException("A resource ID starts with '/subscriptions/{subscriptionId}'.");
        }
        if (!Guid.TryParseExact(parts[2], "D", out var subscription))
        {
            throw new ResourceIdFormatException("The subscription ID is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).");
        }
        var i = 3;
        string? group = null;
        if (i < parts.Length && parts[i].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
        {
            if (i + 1 >= parts.Length)
            {
                throw new ResourceIdFormatException("'resourceGroups' must be followed by a resource group name.");
            }
            group = parts[i + 1];
            ValidateName(group, "resource group name");
            i += 2;
        }
        if (i == parts.Length)
        {
            return new(subscription, group, null, []);
        }
        if (!parts[i].Equals("providers", StringComparison.OrdinalIgnoreCase))
        {
            throw new ResourceIdFormatException($"Expected 'resourceGroups' or 'providers' at segment {i}, found another word.");
        }
        if (i + 1 >= parts.Length)
        {
            throw new ResourceIdFormatException("'providers' must be followed by a provider namespace such as 'Microsoft.DevTestLab'.");
        }
        var ns = parts[i + 1];
        ValidateNamespace(ns);
        var rest = parts.Length - (i + 2);
        if (rest == 0 || rest % 2 != 0)
        {
            throw new ResourceIdFormatException("After the provider namespace a resource ID has type/name pairs.");
        }
        var segments = new List<ResourceSegment>();
        for (var j = i + 2; j < parts.Length; j += 2)
        {
            ValidateType(parts[j]);
            ValidateName(parts[j + 1], "resource name");
            segments.Add(new ResourceSegment(parts[j], parts[j + 1]));
        }
        return new(subscription, group, ns, segments);
    }

    public static bool TryParse(string? value, [NotNullWhen(true)] out ResourceId? id, [NotNullWhen(false)] out string? error)
    {
        try
        {
            id = Parse(value ?? "");
            error = null;
            return true;
        }
        catch (ResourceIdFormatException e)
        {
            id = null;
            error = e.Message;
            return false;
        }
    }

    /// Names of resource groups and resources: letters, digits, '-', '_', '.', '(' and ')', 1 to 90 characters, not ending in '.'.
    /// Returns the problem, or null when the name is valid.
    public static string? NameProblem(string? name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"The {what} is empty.";
        }
        if (name.Length > MaxNameLength)
        {
            return $"The {what} is longer than {MaxNameLength} characters.";
        }
        if (name.EndsWith('.'))
        {
            return $"The {what} must not end with '.'.";
        }
        if (name is "." or ".." || name.Contains("..", StringComparison.Ordinal))
        {
            return $"The {what} must not contain '..'.";
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '(' or ')'))
            {
                return $"The {what} may hold only letters, digits, '-', '_', '.', '(' and ')'.";
            }
        }
        return null;
    }

    private static void ValidateName(string name, string what)
    {
        if (NameProblem(name, what) is { } problem)
        {
            throw new ResourceIdFormatException(problem);
        }
    }

    private static void ValidateNamespace(string ns)
    {
        if (ns.Length is 0 or > 64 || !char.IsAsciiLetter(ns[0]) || !ns.All(c => char.IsAsciiLetterOrDigit(c) || c == '.') || ns.EndsWith('.'))
        {
            throw new ResourceIdFormatException("The provider namespace must look like 'Microsoft.DevTestLab'.");
        }
    }

    private static void ValidateType(string type)
    {
        if (type.Length is 0 or > 64 || !char.IsAsciiLetter(type[0]) || !type.All(char.IsAsciiLetterOrDigit))
        {
            throw new ResourceIdFormatException("A resource type holds only letters and digits, e.g. 'labs'.");
        }
    }

    private string Format()
    {
        if (SubscriptionId is null)
        {
            return "/";
        }
        var sb = new StringBuilder("/subscriptions/").Append(SubscriptionId.Value.ToString("D", CultureInfo.InvariantCulture));
        if (ResourceGroup is not null)
        {
            sb.Append("/resourceGroups/").Append(ResourceGroup);
        }
        if (ProviderNamespace is not null)
        {
            sb.Append("/providers/").Append(ProviderNamespace);
            foreach (var s in Segments)
            {
                sb.Append('/').Append(s.Type).Append('/').Append(s.Name);
            }
        }
        return sb.ToString();
    }

    public override string ToString() => Value;
    public bool Equals(ResourceId? other) => other is not null && other.Key == Key;
    public override bool Equals(object? obj) => obj is ResourceId other && Equals(other);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);
    public static bool operator ==(ResourceId? a, ResourceId? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(ResourceId? a, ResourceId? b) => !(a == b);
}
