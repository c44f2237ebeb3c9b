import re,sys,collections
# parse LogCompilation: per task (level 4), the inline failures of calls whose caller or callee is dev.cortado or VectorSupport
txt=open(sys.argv[1],errors='replace').read()
tasks=re.findall(r"<task (.*?)</task>", txt, re.S)
attr=lambda s,k: (re.search(k+r"='([^']*)'",s) or [None,None])[1]
last={}
for t in tasks:
    head=t.split('>',1)[0]
    lvl=attr(head,'level'); meth=attr(head,'method'); osr=attr(head,'osr_bci'); cid=attr(head,'compile_id'); stamp=attr(head,'stamp')
    if lvl is not None and lvl!='4': continue
    if 'dev.cortado' not in (meth or '').replace('/','.'): continue
    methods={}; klass={}
    for m in re.finditer(r"<klass id='(\d+)' name='([^']*)'",t): klass[m.group(1)]=m.group(2)
    for m in re.finditer(r"<method id='(\d+)' holder='(\d+)' name='([^']*)'",t): methods[m.group(1)]=(m.group(2),m.group(3))
    fails=[]
    # sequence of call / inline_fail
    for m in re.finditer(r"<call method='(\d+)'[^>]*>|<inline_fail reason='([^']*)'",t):
        if m.group(1): cur=m.group(1)
        else:
            h,n=methods.get(cur,('?','?')); name=klass.get(h,'?').split('/')[-1]+'::'+n
            fails.append((name,m.group(2)))
    key=(meth, osr is not None)
    last[key]=(stamp,cid,fails)
for (meth,osr),(stamp,cid,fails) in sorted(last.items()):
    c=collections.Counter(f for f in fails if ('cortado' in f[0].lower() or 'VectorSupport' in f[0] or 'Vector' in f[0]) and 'illegalOperation' not in f[0] and 'UnsupportedOperation' not in f[0] and 'klass not linked' not in f[1] and "no static binding" not in f[1])
    c2=collections.Counter(f for f in fails)
    m=" ".join(meth.split(" ")[:2])
    print(f"{m} {'OSR' if osr else ''} id={cid} t={stamp} fails={len(fails)}")
    for (n,r),v in c.most_common(12): print(f"     {v:3d} {n}: {r}")
