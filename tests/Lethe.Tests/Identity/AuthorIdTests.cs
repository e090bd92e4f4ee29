using System.Security.Cryptography;
using System.Text;
using Lethe.Identity;

namespace Lethe.Tests.Identity;

public sealed class AuthorIdTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Author_id_is_upper_hex_hmac_of_the_trimmed_lower_cased_email()
    {
        var expected = Convert.ToHexString(HMACSHA256.HashData(Secret, Encoding.UTF8.GetBytes("first.last@example.com")));
        var id = AuthorId.For("  First.Last@Example.COM ", Secret);
        Assert.Equal(expected, id);
        Assert.Equal(64, id.Length);
        Assert.True(AuthorId.IsWellFormed(id));
        Assert.Equal(id, AuthorId.For("first.last@example.com", Secret));
    }

    [Fact]
    public void Without_the_secret_the_author_id_cannot_be_computed_from_the_email()
    {
        var other = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();
        Assert.NotEqual(AuthorId.For("a@example.com", Secret), AuthorId.For("a@example.com", other));
        Assert.NotEqual(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("a@example.com"))), AuthorId.For("a@example.com", Secret));
    }

    [Theory]
    [InlineData("cb9aefcbeb947fd5d25d29a477b9cbc572aad7bef3236ff55724282f7c8ce8be")]
    [InlineData("CB9AEFCBEB947FD5")]
    [InlineData("ZB9AEFCBEB947FD5D25D29A477B9CBC572AAD7BEF3236FF55724282F7C8CE8BE")]
    public void Malformed_author_ids_are_recognised(string value) => Assert.False(AuthorId.IsWellFormed(value));

    [Fact]
    public void The_seed_example_is_well_formed() => Assert.True(AuthorId.IsWellFormed("CB9AEFCBEB947FD5D25D29A477B9CBC572AAD7BEF3236FF55724282F7C8CE8BE"));
}
