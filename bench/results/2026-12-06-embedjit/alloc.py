import re,collections,sys,datetime
txt=open(sys.argv[1]).read()
t0s=sys.argv[2] if len(sys.argv)>2 else None
t1s=sys.argv[3] if len(sys.argv)>3 else None
evs=txt.split('jdk.ObjectAllocationSample {')[1:]
by=collections.Counter(); cls=collections.Counter(); tot=0; timeb=collections.Counter()
for e in evs:
    st=re.search(r'startTime = (\S+)',e).group(1)
    if t0s and st< t0s: continue
    if t1s and st> t1s: continue
    w=re.search(r'weight = ([\d.]+) (\w+)',e)
    val=float(w.group(1)); u=w.group(2)
    val*= {'bytes':1,'kB':1e3,'MB':1e6,'GB':1e9}.get(u,1)
    th=re.search(r'eventThread = "([^"]+)"',e).group(1)
    oc=re.search(r'objectClass = (\S+)',e).group(1)
    fr=re.findall(r'^\s+([\w.$<>]+)\(.*?line: (\d+)', e, re.M)
    names=[f for f,l in fr]
    if not any(f.startswith('dev.cortado') for f in names): continue
    if any('.ort.' in f for f in names): continue
    tot+=val
    timeb[st[:8]]+=val
    key=' < '.join(f"{f.split('.')[-2]}.{f.split('.')[-1]}:{l}" for f,l in fr[:6])
    by[key]+=val; cls[oc]+=val
print('total MB',tot/1e6)
for k,v in sorted(timeb.items()): print(' ',k, round(v/1e6,1))
for k,v in by.most_common(25): print(f"{v/1e6:8.1f} MB  {k}")
for k,v in cls.most_common(10): print(f"{v/1e6:8.1f} MB  {k}")
