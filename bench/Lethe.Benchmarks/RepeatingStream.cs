namespace Lethe.Benchmarks;

/// <paramref name="length"/> bytes made of <paramref name="chunk"/> repeated, without holding them.
internal sealed class RepeatingStream(byte[] chunk, long length) : Stream
{
    private long _position;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        for (var done = 0; done < n;)
        {
            var at = (int)((_position + done) % chunk.Length);
            var take = Math.Min(n - done, chunk.Length - at);
            Array.Copy(chunk, at, buffer, offset + done, take);
            done += take;
        }
        _position += n;
        return n;
    }
}
