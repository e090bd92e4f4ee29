using Lethe.Jobs;

namespace Lethe.Tests.Jobs;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(4, 80)]
    [InlineData(9, 2560)]
    public void Without_jitter_the_delay_doubles_from_ten_seconds(int attempt, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), Backoff.For(attempt, jitter: 0));

    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    [InlineData(int.MaxValue)]
    public void The_delay_is_capped_at_an_hour(int attempt)
        => Assert.Equal(TimeSpan.FromHours(1), Backoff.For(attempt, jitter: 0));

    [Fact]
    public void Jitter_shortens_the_delay_by_at_most_a_fifth_even_at_the_cap()
    {
        Assert.Equal(TimeSpan.FromSeconds(9), Backoff.For(1, jitter: 0.5));
        Assert.True(Backoff.For(1, jitter: 0.999_999) > TimeSpan.FromSeconds(8));
        Assert.Equal(TimeSpan.FromMinutes(54), Backoff.For(100, jitter: 0.5));
    }

    [Fact]
    public void Random_jitter_stays_within_bounds()
    {
        for (var i = 0; i < 1000; i++)
        {
            var delay = Backoff.For(3);
            Assert.InRange(delay, TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(40));
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, -0.1)]
    [InlineData(1, 1)]
    public void Out_of_range_inputs_are_rejected(int attempt, double jitter)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Backoff.For(attempt, jitter));
}
