using System.ComponentModel.DataAnnotations;
using Lethe.Blobs;

namespace Lethe.Tests.Blobs;

public sealed class BlobNamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("azureml/ExperimentRun/dcid.run-1/outputs/model.pkl")]
    [InlineData("labresourceusage/lab1/virtualmachines.csv")]
    [InlineData(".hidden/..x/a.b")]
    [InlineData("spaces are fine/ü ß 日本/😀")]
    [InlineData("run:1/at:12:00")]
    public void Valid_names_are_accepted(string name) => Assert.Null(BlobNames.NameError(name));

    [Theory]
    [InlineData("../x", "'..' segments")]
    [InlineData("a/..", "'..' segments")]
    [InlineData(".", "'.' segments")]
    [InlineData("/abs", "must not start with '/'")]
    [InlineData("//server/share", "must not start with '/'")]
    [InlineData("C:\\x", "'\\'")]
    [InlineData("C:x", "drive letter")]
    [InlineData("a//b", "empty segments")]
    [InlineData("a/", "empty segments")]
    [InlineData("a\u007f", "control characters")]
    [InlineData("a\u0085", "control characters")]
    [InlineData("x./y", "must not end with '.'")]
    public void Invalid_names_are_refused_with_the_rule_they_break(string name, string rule)
    {
        var error = Assert.Throws<BlobNameException>(() => BlobNames.ValidateName(name));
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_surrogate_is_not_valid_unicode()
    {
        // Built at run time: an attribute argument cannot carry a lone surrogate.
        var name = "a" + (char)0xD800 + "b";
        Assert.Contains("valid Unicode", Assert.Throws<BlobNameException>(() => BlobNames.ValidateName(name)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Segment_length_is_counted_in_utf8_bytes()
    {
        Assert.Null(BlobNames.NameError(new string('é', 127)));
        Assert.Contains("254 bytes", BlobNames.NameError(new string('é', 128)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ws1/")]
    [InlineData("ws1")]
    [InlineData("ws1/run.")]
    [InlineData("ws1/..")]
    public void Prefixes_may_end_with_a_slash_or_a_partial_segment(string? prefix) => Assert.Null(BlobNames.PrefixError(prefix));

    [Theory]
    [InlineData("../", "'..' segments")]
    [InlineData("/ws", "must not start with '/'")]
    [InlineData("ws//", "empty segments")]
    [InlineData("a\\", "'\\'")]
    public void Invalid_prefixes_are_refused(string prefix, string rule)
        => Assert.Contains(rule, Assert.Throws<BlobNameException>(() => BlobNames.ValidatePrefix(prefix)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("abc", true)]
    [InlineData("a-1-b", true)]
    [InlineData("1ab", true)]
    [InlineData("ab", false)]
    [InlineData("Abc", false)]
    [InlineData("a--b", false)]
    [InlineData("ab-", false)]
    [InlineData("-ab", false)]
    [InlineData("a.b", false)]
    public void Containers_follow_azure_rules(string container, bool valid)
        => Assert.Equal(valid, BlobNames.ContainerError(container) is null);

    [Fact]
    public void The_container_prefix_counts_towards_the_length_limit()
    {
        Assert.Equal("lethe-" + new string('a', 57), BlobNames.PhysicalContainer("lethe-", new string('a', 57)));
        var error = Assert.Throws<BlobNameException>(() => BlobNames.PhysicalContainer("lethe-", new string('a', 58)));
        Assert.Contains("at most 57 characters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lethe-", "lethe-abc", "abc")]
    [InlineData("lethe-", "other-ws", null)]
    [InlineData("lethe-", "lethe-", null)]
    [InlineData(null, "$logs", null)]
    [InlineData(null, "abc", "abc")]
    public void Only_containers_with_the_prefix_belong_to_the_store(string? prefix, string physical, string? container)
        => Assert.Equal(container, BlobNames.LogicalContainer(prefix, physical));

    [Fact]
    public void Content_types_must_be_printable_ascii()
    {
        BlobNames.ValidateContentType("application/json; charset=utf-8");
        Assert.Throws<ArgumentException>(() => BlobNames.ValidateContentType("text/plain\nX: y"));
        Assert.Throws<ArgumentException>(() => BlobNames.ValidateContentType(new string('a', 256)));
    }

    [Fact]
    public void A_tombstone_expires_when_the_whole_retention_has_passed()
    {
        var deletedAt = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var retention = TimeSpan.FromDays(14);

        Assert.False(BlobSoftDelete.IsExpired(deletedAt, retention, deletedAt + retention - TimeSpan.FromTicks(1)));
        Assert.True(BlobSoftDelete.IsExpired(deletedAt, retention, deletedAt + retention));
    }

    [Theory]
    [InlineData(BlobProvider.FileSystem, null, null, 14, null)]
    [InlineData(BlobProvider.Azure, "UseDevelopmentStorage=true", "lethe-", 0, null)]
    [InlineData(BlobProvider.Azure, null, null, 14, "Lethe:Blobs:ConnectionString")]
    [InlineData(BlobProvider.FileSystem, null, "Lethe_", 14, "Lethe:Blobs:ContainerPrefix")]
    [InlineData(BlobProvider.FileSystem, null, "a--", 14, "Lethe:Blobs:ContainerPrefix")]
    [InlineData(BlobProvider.FileSystem, null, null, 3651, "Lethe:Blobs:SoftDeleteRetentionDays")]
    public void Options_are_validated_with_the_setting_named(
        BlobProvider provider, string? connectionString, string? containerPrefix, int retentionDays, string? brokenSetting)
    {
        var options = new BlobOptions
        {
            Provider = provider,
            ConnectionString = connectionString,
            ContainerPrefix = containerPrefix,
            SoftDeleteRetentionDays = retentionDays,
        };

        if (brokenSetting is null)
        {
            options.ThrowIfInvalid();
        }
        else
        {
            Assert.Contains(brokenSetting, Assert.Throws<ValidationException>(options.ThrowIfInvalid).Message, StringComparison.Ordinal);
        }
    }
}
