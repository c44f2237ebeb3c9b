import re,collections,sys
txt=open(sys.argv[1]).read()
evs=txt.split('jdk.ObjectAllocationSample {')[1:]
tb=collections.defaultdict(collections.Counter)
for e in evs:
    st=re.search(r'startTime = (\S+)',e).group(1)
    w=re.search(r'weight = ([\d.]+) (\w+)',e)
    val=float(w.group(1))*{'bytes':1,'kB':1e3,'MB':1e6,'GB':1e9}.get(w.group(2),1)
    m=re.search(r'EmbedBench\.time\(.*?line: (\d+)',e)
    phase = m.group(1) if m else ('pool' if 'WorkerPool' in e else '-')
    if '.ort.' in e: phase='ort'
    tb[st[:10]][phase]+=val/1e6
for k in sorted(tb): print(k, {p:round(v,1) for p,v in tb[k].items()})
