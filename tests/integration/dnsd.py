"""dnsd.py ADDR NAME IP: a name server for tests. On ADDR:53 over UDP it
answers an A query for NAME with IP (TTL 60), any other type for NAME with
no record, and any other name with NXDOMAIN. Prints "listening" once bound;
runs until killed."""
import socket, struct, sys
addr, name, ip = sys.argv[1], sys.argv[2].lower().rstrip('.'), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
print('listening', flush=True)
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    qid, flags, qd = struct.unpack('!HHH', q[:6])
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        n = q[i]; labels.append(q[i + 1:i + 1 + n].decode('ascii', 'replace')); i += 1 + n
    qtype, qclass = struct.unpack('!HH', q[i + 1:i + 5])
    question = q[12:i + 5]
    qname = '.'.join(labels).lower()
    hit = qname == name and qtype == 1
    rcode = 0 if qname == name else 3
    hdr = struct.pack('!HHHHHH', qid, 0x8180 | rcode, 1, 1 if hit else 0, 0, 0)
    ans = b''
    if hit:
        ans = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60, 4) + socket.inet_aton(ip)
    s.sendto(hdr + question + ans, peer)
