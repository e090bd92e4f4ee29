using Lethe.Resources;

namespace Lethe.Tests.Resources;

public sealed class ResourceIdTests
{
    private const string Sub = "6a7f1c2e-0b9d-4e3a-8f21-5c4d3b2a1908";

    [Theory]
    [InlineData("/")]
    [InlineData("/subscriptions/" + Sub)]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg-1")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg-1/providers/Microsoft.DevTestLab/labs/lab1")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg-1/providers/Microsoft.DevTestLab/labs/lab1/virtualmachines/vm.01")]
    [InlineData("/subscriptions/" + Sub + "/providers/Microsoft.Gallery/authors/a(1)")]
    public void Canonical_ids_round_trip(string value)
    {
        var id = ResourceId.Parse(value);
        Assert.Equal(value, id.Value);
        Assert.Equal(id, ResourceId.Parse(id.ToString()));
    }

    [Fact]
    public void Keywords_are_case_insensitive_and_a_trailing_slash_is_accepted()
    {
        var id = ResourceId.Parse("/SUBSCRIPTIONS/" + Sub.ToUpperInvariant() + "/resourcegroups/RG/PROVIDERS/Microsoft.DevTestLab/labs/Lab/");
        Assert.Equal("/subscriptions/" + Sub + "/resourceGroups/RG/providers/Microsoft.DevTestLab/labs/Lab", id.Value);
        Assert.Equal(ResourceId.Parse("/subscriptions/" + Sub + "/resourceGroups/rg/providers/microsoft.devtestlab/LABS/lab"), id);
        Assert.Equal("Microsoft.DevTestLab/labs", id.ResourceType);
        Assert.Equal("Lab", id.Name);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("subscriptions/" + Sub, "starts with '/'")]
    [InlineData("/subscriptions/not-a-guid", "not a GUID")]
    [InlineData("/tenants/" + Sub, "starts with '/subscriptions/")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups", "followed by a resource group name")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/../x", "must not")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs", "type/name pairs")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/a b", "letters, digits")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg//providers", "empty segments")]
    [InlineData("/subscriptions/" + Sub + "/resourceGroups/rg./", "end with '.'")]
    [InlineData("/subscriptions/" + Sub + "/things/x", "Expected 'resourceGroups' or 'providers'")]
    public void Malformed_ids_are_rejected_with_what_was_wrong(string value, string expected)
    {
        var error = Assert.Throws<ResourceIdFormatException>(() => ResourceId.Parse(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(ResourceId.TryParse(value, out _, out var message));
        Assert.Equal(error.Message, message);
    }

    [Fact]
    public void Scopes_from_root_list_every_ancestor_in_order()
    {
        var vm = ResourceId.Parse("/subscriptions/" + Sub + "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/lab/virtualmachines/vm");
        var scopes = vm.ScopesFromRoot().Select(s => s.Value).ToArray();
        Assert.Equal(
            [
                "/",
                "/subscriptions/" + Sub,
                "/subscriptions/" + Sub + "/resourceGroups/rg",
                "/subscriptions/" + Sub + "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/lab",
                vm.Value,
            ],
            scopes);
        Assert.True(ResourceId.Parse("/subscriptions/" + Sub + "/resourceGroups/RG").Contains(vm));
        Assert.False(ResourceId.Parse("/subscriptions/" + Sub + "/resourceGroups/r").Contains(vm));
    }
}
